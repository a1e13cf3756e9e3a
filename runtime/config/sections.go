package config

import (
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// This file holds the validators of the sections build itself does not
// use (accessories, env, proxy, boot, logging, aliases, traefik,
// healthcheck), so that a config Kamal refuses is refused here too, with
// Kamal's message and in Kamal's order (see validateSections).

// validateSections runs, in the order Kamal's Configuration constructs
// them, the validators of every section after the root: servers and each
// role (with its env, logging and proxy), registry, accessories (each with
// the roles it names, env, proxy and registry), aliases, boot, builder,
// env, logging, output, proxy, ssh and sshkit. Kamal 1 has healthcheck and traefik
// where Kamal 2 has aliases and proxy.
func validateSections(raw *mapping, gen Generation) error {
	servers, hasServers := raw.get("servers")
	if gen == Kamal1 || hasServers {
		if err := validateServers(servers, gen); err != nil {
			return err
		}
	}
	registry, _ := raw.get("registry")
	if err := validateRegistry(registry, gen, "registry"); err != nil {
		return err
	}
	if err := validateAccessories(get(raw, "accessories"), decodeRoles(servers), gen); err != nil {
		return err
	}
	if gen == Kamal2 {
		if err := validateAliases(get(raw, "aliases")); err != nil {
			return err
		}
	}
	if err := validateSection("boot", get(raw, "boot"), bootSchema(gen)); err != nil {
		return err
	}
	builder, _ := raw.get("builder")
	if err := validateBuilder(builder, gen); err != nil {
		return err
	}
	if err := validateEnv(orEmpty(get(raw, "env")), "env"); err != nil {
		return err
	}
	if gen == Kamal1 {
		if err := validateSection("healthcheck", get(raw, "healthcheck"), healthcheckSchema); err != nil {
			return err
		}
	}
	if err := validateSection("logging", get(raw, "logging"), loggingSchema); err != nil {
		return err
	}
	if gen == Kamal2 {
		if err := validateSection("output", get(raw, "output"), outputSchema); err != nil {
			return err
		}
		if err := validateProxy(get(raw, "proxy"), "proxy"); err != nil {
			return err
		}
	} else if err := validateSection("traefik", get(raw, "traefik"), traefikSchema); err != nil {
		return err
	}
	if err := validateSection("ssh", get(raw, "ssh"), sshSchema(gen)); err != nil {
		return err
	}
	return validateSection("sshkit", get(raw, "sshkit"), sshkitSchema(gen))
}

func orEmpty(x any) any {
	if x == nil {
		return newMapping()
	}
	return x
}

var (
	loggingSchema = []field{f("driver", kString), f("options", kAnyHash)}

	// Kamal 2's output section: where deploy logs are shipped.
	outputSchema = []field{hash("otel", f("endpoint", kString)), hash("file", f("path", kString))}

	// Kamal 1's root healthcheck and traefik sections.
	healthcheckSchema = []field{
		f("cmd", kString), f("interval", kString), f("max_attempts", kInteger), f("port", kString),
		f("path", kString), f("cord", kString), f("log_lines", kInteger),
	}
	traefikSchema = []field{
		f("image", kString), f("host_port", kString), f("publish", kBoolean), f("labels", kLabels),
		f("env", kSection), f("options", kAnyHash), f("args", kAnyHash),
	}

	proxySchema = []field{
		f("host", kString), f("hosts", kStrings), f("app_port", kInteger), field{name: "ssl", kind: kSSL},
		f("certificate_pem", kString), f("private_key_pem", kString),
		f("ssl_redirect", kBoolean), f("forward_headers", kBoolean), f("response_timeout", kInteger),
		hash("healthcheck", f("interval", kInteger), f("path", kString), f("timeout", kInteger)),
		hash("buffering", f("requests", kBoolean), f("responses", kBoolean), f("max_request_body", kInteger),
			f("max_response_body", kInteger), f("memory", kInteger)),
		hash("logging", f("request_headers", kStrings), f("response_headers", kStrings)),
		f("path_prefix", kString), f("path_prefixes", kStrings), f("strip_path_prefix", kBoolean),
		hash("run", f("http_port", kInteger), f("https_port", kInteger), f("metrics_port", kInteger),
			f("debug", kBoolean), f("log_max_size", kString), f("publish", kBoolean), f("bind_ips", kStrings),
			f("registry", kString), f("repository", kString), f("version", kString), f("options", kAnyHash)),
	}
)

// bootSchema: limit is a number or a percentage ("25%").
func bootSchema(gen Generation) []field {
	s := []field{f("limit", kString), f("wait", kInteger)}
	if gen == Kamal2 {
		s = append(s, f("parallel_roles", kBoolean))
	}
	return s
}

func accessorySchema(gen Generation) []field {
	if gen == Kamal2 {
		return []field{
			f("service", kString), f("image", kString), f("registry", kSection),
			f("host", kString), f("hosts", kHosts), f("role", kString), f("roles", kStrings),
			f("tag", kString), f("tags", kStrings), f("cmd", kString), f("port", kString),
			f("labels", kLabels), f("options", kAnyHash), f("env", kSection),
			f("files", kPaths), f("directories", kPaths), f("volumes", kStrings),
			f("network", kString), f("proxy", kProxy),
		}
	}
	return []field{
		f("service", kString), f("image", kString), f("host", kString), f("hosts", kHosts),
		f("roles", kStrings), f("cmd", kString), f("port", kString), f("labels", kLabels),
		f("options", kAnyHash), f("env", kSection), f("files", kStrings), f("directories", kStrings),
		f("volumes", kStrings),
	}
}

// validateAccessories checks each accessory in file order: its keys and
// types, exactly one way of naming its hosts, its labels and options, the
// roles it names (Kamal 2), then its env, proxy and registry.
func validateAccessories(x any, roles []Role, gen Generation) error {
	m, ok := x.(*mapping)
	if !ok {
		return nil // the root validator has reported a non-hash
	}
	for _, name := range m.keys {
		acc := m.vals[name]
		ctx := "accessories/" + name
		v := &validator{ctx: ctx}
		if err := v.hash(acc, accessorySchema(gen), false); err != nil {
			return err
		}
		a := acc.(*mapping)
		hostKeys := []string{"host", "hosts", "role", "roles", "tag", "tags"}
		want := "specify one of `host`, `hosts`, `role`, `roles`, `tag` or `tags`"
		if gen == Kamal1 {
			hostKeys = []string{"host", "hosts", "roles"}
			want = "specify one of `host`, `hosts` or `roles`"
		}
		n := 0
		for _, k := range hostKeys {
			if _, ok := a.get(k); ok {
				n++
			}
		}
		if n != 1 {
			return v.errorf("%s", want)
		}
		if gen == Kamal1 {
			if err := validateEnv(orEmpty(get(a, "env")), ctx+"/env"); err != nil {
				return err
			}
			continue
		}
		if err := v.labelsAndOptions(a); err != nil {
			return err
		}
		if named, ok := get(a, "roles").([]any); ok {
			var missing []string
			for _, r := range named {
				rn := rubyString(r)
				if !roleDefined(roles, rn) {
					missing = append(missing, rn)
				}
			}
			if len(missing) > 0 {
				return configErrorf("%s: unknown roles %s", ctx, strings.Join(missing, ", "))
			}
		} else if r, ok := a.get("role"); ok && r != nil && !roleDefined(roles, rubyString(r)) {
			return configErrorf("%s: unknown role %s", ctx, rubyString(r))
		}
		if err := validateEnv(orEmpty(get(a, "env")), ctx+"/env"); err != nil {
			return err
		}
		if p := get(a, "proxy"); present(p) {
			if err := validateProxy(p, ctx+"/proxy"); err != nil {
				return err
			}
		}
		if r := get(a, "registry"); present(r) {
			if err := validateRegistry(r, gen, ctx+"/registry"); err != nil {
				return err
			}
		}
	}
	return nil
}

func roleDefined(roles []Role, name string) bool {
	for _, r := range roles {
		if r.Name == name {
			return true
		}
	}
	return false
}

var reservedLabels = map[string]bool{"destination": true, "role": true, "service": true}

var restartPolicy = regexp.MustCompile(`\A(?:no|always|unless-stopped|on-failure(?::\d+)?)\z`)

// labelsAndOptions are Kamal 2's extra checks of a role's or an
// accessory's labels (no reserved names) and docker options (a valid
// restart policy).
func (v *validator) labelsAndOptions(m *mapping) error {
	if labels, ok := get(m, "labels").(*mapping); ok {
		for _, k := range labels.keys {
			if reservedLabels[k] {
				return v.with("labels", func() error {
					return v.with(k, func() error {
						return v.errorf("invalid label. destination, role, and service are reserved labels")
					})
				})
			}
		}
	}
	if opts, ok := get(m, "options").(*mapping); ok {
		if p, ok := opts.get("restart"); ok {
			return v.with("options/restart", func() error {
				s, isString := p.(string)
				if !isString {
					return v.errorf(`should be a string. Use "no" to disable restarts`)
				}
				if !restartPolicy.MatchString(s) {
					return v.errorf("should be no, always, unless-stopped, on-failure, or on-failure:N")
				}
				return nil
			})
		}
	}
	return nil
}

// validateEnv is Kamal's env validator: either a plain hash of strings,
// or clear (a hash of strings), secret (an array of strings) and, in the
// root env only, tags (each an env of its own).
func validateEnv(x any, ctx string) error {
	v := &validator{ctx: ctx}
	m, ok := x.(*mapping)
	if !ok {
		return v.typeError(tHash)
	}
	special := map[string]bool{"clear": true, "secret": true, "tags": true}
	var unknown []string
	complex := false
	for _, k := range m.keys {
		if special[k] {
			complex = true
		} else {
			unknown = append(unknown, k)
		}
	}
	if !complex {
		return v.hashOf(m, tString)
	}
	if err := v.unknownKeys(unknown); err != nil {
		return err
	}
	if c, ok := m.get("clear"); ok {
		if err := v.with("clear", func() error { return v.hashOf(c, tString) }); err != nil {
			return err
		}
	}
	if s, ok := m.get("secret"); ok {
		if err := v.with("secret", func() error { return v.arrayOf(s, tString) }); err != nil {
			return err
		}
	}
	if tags, ok := m.get("tags"); ok {
		if ctx != "env" {
			return v.errorf("tags are only allowed in the root env")
		}
		return v.with("tags", func() error {
			if err := v.checkType(tags, tHash); err != nil {
				return err
			}
			tm := tags.(*mapping)
			for _, name := range tm.keys {
				if err := validateEnv(tm.vals[name], v.ctx+"/"+name); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return nil
}

func (v *validator) hashOf(x any, t typ) error {
	if err := v.checkType(x, tHash); err != nil {
		return err
	}
	m := x.(*mapping)
	for _, k := range m.keys {
		val := m.vals[k]
		if err := v.with(k, func() error { return v.checkType(val, t) }); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) unknownKeys(unknown []string) error {
	switch len(unknown) {
	case 0:
		return nil
	case 1:
		return v.errorf("unknown key: %s", unknown[0])
	default:
		return v.errorf("unknown keys: %s", strings.Join(unknown, ", "))
	}
}

// validateProxy is Kamal 2's proxy validator (root, role or accessory):
// nothing to check when absent; otherwise a hash of the example's keys,
// a host when automatic SSL is on, not both host and hosts, both halves
// of a custom certificate, and no published ports when publish is off.
func validateProxy(x any, ctx string) error {
	if x == nil {
		return nil
	}
	v := &validator{ctx: ctx}
	if err := v.hash(x, proxySchema, false); err != nil {
		return err
	}
	m := x.(*mapping)
	if !present(get(m, "host")) && !present(get(m, "hosts")) && ruby.Truthy(get(m, "ssl")) {
		return v.errorf("Must set a host to enable automatic SSL")
	}
	_, hasHost := m.get("host")
	_, hasHosts := m.get("hosts")
	if hasHost && hasHosts {
		return v.errorf("Specify one of 'host' or 'hosts', not both")
	}
	if ssl, ok := get(m, "ssl").(*mapping); ok {
		cert, key := present(get(ssl, "certificate_pem")), present(get(ssl, "private_key_pem"))
		if cert && !key {
			return v.errorf("Missing private_key_pem setting (required when certificate_pem is present)")
		}
		if key && !cert {
			return v.errorf("Missing certificate_pem setting (required when private_key_pem is present)")
		}
	}
	if run, ok := get(m, "run").(*mapping); ok && get(run, "publish") == false {
		if present(get(run, "bind_ips")) || present(get(run, "http_port")) || present(get(run, "https_port")) {
			return v.errorf("Cannot set http_port, https_port or bind_ips when publish is false")
		}
	}
	return nil
}

var aliasName = regexp.MustCompile(`\A[a-z0-9_-]+\z`)

// kamalCommands are the commands of Kamal 2's CLI an alias may not shadow.
var kamalCommands = map[string]bool{
	"accessory": true, "app": true, "audit": true, "build": true, "config": true, "deploy": true,
	"details": true, "docs": true, "help": true, "init": true, "lock": true, "proxy": true,
	"prune": true, "redeploy": true, "registry": true, "remove": true, "rollback": true,
	"secrets": true, "server": true, "setup": true, "upgrade": true, "version": true,
}

// validateAliases checks each alias: a string command, a name of lower
// case letters, digits, hyphens and underscores, and no built-in command.
func validateAliases(x any) error {
	m, ok := x.(*mapping)
	if !ok {
		return nil
	}
	for _, name := range m.keys {
		v := &validator{ctx: "aliases/" + name}
		if err := v.checkType(m.vals[name], tString); err != nil {
			return err
		}
		if !aliasName.MatchString(name) {
			return v.errorf("Invalid alias name: '%s'. Must only contain lowercase letters, alphanumeric, hyphens and underscores.", name)
		}
		if kamalCommands[name] {
			return v.errorf("Alias '%s' conflicts with a built-in command.", name)
		}
	}
	return nil
}

package config

import (
	"fmt"
	"strconv"
	"strings"
)

// This file is Kamal's Validator: every key of a section must appear in
// the section's example (lib/kamal/configuration/docs/*.yml) and every
// value must have the example value's type. Messages are Kamal's exactly:
// "<context>: <problem>", context being the "/"-joined key path.
//
// The sections build does not use have their validators in sections.go.

// kind is the type an example value asks for.
type kind int

const (
	kString      kind = iota // String, Symbol, Numeric and booleans all pass
	kInteger                 // Integer
	kBoolean                 // true or false
	kSection                 // "..." in the example: a hash checked elsewhere
	kServers                 // root servers: an array or a hash
	kProxy                   // proxy: a boolean or a hash
	kStrings                 // array of strings
	kArch                    // builder arch: a string or an array of strings
	kLabels                  // hash of strings
	kAnyHash                 // options, args: a hash, values unchecked
	kHooksOutput             // a string, or a hash of strings
	kSSHConfig               // boolean, string or array of strings
	kHosts                   // servers list (role hosts)
	kHash                    // nested hash checked against sub
	kSSL                     // proxy ssl: a boolean or a hash
	kPaths                   // accessory files/directories: strings or local/remote hashes
)

type field struct {
	name string
	kind kind
	sub  []field
}

func f(name string, k kind) field { return field{name: name, kind: k} }

func hash(name string, sub ...field) field { return field{name: name, kind: kHash, sub: sub} }

func rootSchema(gen Generation) []field {
	if gen == Kamal2 {
		return []field{
			f("service", kString), f("image", kString), f("labels", kLabels), f("volumes", kStrings),
			f("registry", kSection), f("servers", kServers), f("env", kSection), f("asset_path", kString),
			f("hooks_path", kString), f("hooks_output", kHooksOutput), f("secrets_path", kString),
			f("error_pages_path", kString), f("require_destination", kBoolean), f("primary_role", kString),
			f("allow_empty_roles", kBoolean), f("retain_containers", kInteger), f("minimum_version", kString),
			f("readiness_delay", kInteger), f("deploy_timeout", kInteger), f("drain_timeout", kInteger),
			f("stop_timeout", kInteger), f("run_directory", kString), f("ssh", kSection), f("builder", kSection),
			f("accessories", kSection), f("proxy", kProxy), f("sshkit", kSection), f("boot", kSection),
			f("logging", kSection), f("output", kSection), f("aliases", kSection),
		}
	}
	return []field{
		f("service", kString), f("image", kString), f("labels", kLabels), f("volumes", kStrings),
		f("registry", kSection), f("servers", kServers), f("env", kSection), f("asset_path", kString),
		f("hooks_path", kString), f("require_destination", kBoolean), f("primary_role", kString),
		f("allow_empty_roles", kBoolean), f("stop_wait_time", kInteger), f("retain_containers", kInteger),
		f("minimum_version", kString), f("readiness_delay", kInteger), f("run_directory", kString),
		f("ssh", kSection), f("builder", kSection), f("accessories", kSection), f("traefik", kSection),
		f("sshkit", kSection), f("boot", kSection), f("healthcheck", kSection), f("logging", kSection),
	}
}

func builderSchema(gen Generation) []field {
	cache := hash("cache", f("type", kString), f("options", kString), f("image", kString))
	common := []field{
		cache, f("context", kString), f("dockerfile", kString), f("target", kString),
		f("args", kAnyHash), f("secrets", kStrings), f("ssh", kString),
	}
	if gen == Kamal2 {
		return append([]field{
			f("driver", kString), f("arch", kArch), f("remote", kString), f("local", kBoolean),
			f("provenance", kString), f("sbom", kBoolean),
			hash("pack", f("builder", kString), f("buildpacks", kStrings)),
		}, common...)
	}
	return append([]field{
		f("multiarch", kBoolean),
		hash("local", f("arch", kString), f("host", kString)),
		hash("remote", f("arch", kString), f("host", kString)),
	}, common...)
}

func sshSchema(gen Generation) []field {
	s := []field{
		f("user", kString), f("port", kString), f("proxy", kString), f("proxy_command", kString),
		f("log_level", kString), f("keys_only", kBoolean), f("keys", kStrings), f("key_data", kStrings),
	}
	if gen == Kamal2 {
		s = append(s, f("config", kSSHConfig), f("forward_agent", kBoolean))
	}
	return s
}

func sshkitSchema(gen Generation) []field {
	s := []field{f("max_concurrent_starts", kInteger), f("pool_idle_timeout", kInteger)}
	if gen == Kamal2 {
		s = append(s, f("dns_retries", kInteger))
	}
	return s
}

func roleSchema(gen Generation) []field {
	s := []field{
		f("hosts", kHosts), f("cmd", kString), f("options", kAnyHash), f("logging", kSection),
		f("labels", kLabels), f("env", kSection), f("asset_path", kString),
	}
	if gen == Kamal2 {
		return append(s, f("proxy", kProxy))
	}
	// Kamal 1 roles may say "traefik: true" or give traefik options.
	return append(s, field{name: "traefik", kind: kProxy}, f("healthcheck", kSection))
}

// validator carries the current context, like Kamal's with_context.
type validator struct {
	ctx string
}

func (v *validator) with(key string, fn func() error) error {
	old := v.ctx
	if v.ctx == "" {
		v.ctx = key
	} else if key != "" {
		v.ctx = v.ctx + "/" + key
	}
	err := fn()
	v.ctx = old
	return err
}

func (v *validator) errorf(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if v.ctx != "" {
		msg = v.ctx + ": " + msg
	}
	return configErrorf("%s", msg)
}

func isStringish(x any) bool {
	switch x.(type) {
	case string, int, float64, bool:
		return true
	}
	return false
}

type typ int

const (
	tString typ = iota
	tInteger
	tBoolean
	tHash
	tArray
)

var typeDesc = map[typ]string{tString: "a string", tInteger: "an integer", tBoolean: "a boolean", tHash: "a hash", tArray: "an array"}

func hasType(x any, t typ) bool {
	switch t {
	case tString:
		return isStringish(x)
	case tInteger:
		_, ok := x.(int)
		return ok
	case tBoolean:
		_, ok := x.(bool)
		return ok
	case tHash:
		_, ok := x.(*mapping)
		return ok
	case tArray:
		_, ok := x.([]any)
		return ok
	}
	return false
}

// typeError is "should be a string or an array" etc.
func (v *validator) typeError(types ...typ) error {
	var desc []string
	for _, t := range types {
		desc = append(desc, typeDesc[t])
	}
	return v.errorf("should be %s", strings.Join(desc, " or "))
}

func (v *validator) checkType(x any, types ...typ) error {
	for _, t := range types {
		if hasType(x, t) {
			return nil
		}
	}
	return v.typeError(types...)
}

// hash validates m against schema. allowExt lets "x-" keys through (root).
func (v *validator) hash(x any, schema []field, allowExt bool) error {
	if err := v.checkType(x, tHash); err != nil {
		return err
	}
	m := x.(*mapping)
	known := make(map[string]field, len(schema))
	for _, fl := range schema {
		known[fl.name] = fl
	}
	var unknown []string
	for _, k := range m.keys {
		if _, ok := known[k]; !ok && !(allowExt && strings.HasPrefix(k, "x-")) {
			unknown = append(unknown, k)
		}
	}
	switch len(unknown) {
	case 0:
	case 1:
		return v.errorf("unknown key: %s", unknown[0])
	default:
		return v.errorf("unknown keys: %s", strings.Join(unknown, ", "))
	}
	for _, k := range m.keys {
		fl, ok := known[k]
		if !ok {
			continue
		}
		val := m.vals[k]
		if err := v.with(k, func() error { return v.value(val, fl) }); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) value(x any, fl field) error {
	switch fl.kind {
	case kString:
		return v.checkType(x, tString)
	case kInteger:
		return v.checkType(x, tInteger)
	case kBoolean:
		return v.checkType(x, tBoolean)
	case kSection, kAnyHash:
		return v.checkType(x, tHash)
	case kServers:
		return v.checkType(x, tArray, tHash)
	case kProxy:
		if _, ok := x.(bool); ok {
			return nil
		}
		return v.checkType(x, tHash)
	case kStrings:
		return v.arrayOf(x, tString)
	case kArch:
		if _, ok := x.([]any); ok {
			if v.arrayOf(x, tString) != nil {
				return v.typeError(tArray, tString)
			}
			return nil
		}
		if v.checkType(x, tString) != nil {
			return v.typeError(tArray, tString)
		}
		return nil
	case kLabels:
		if err := v.checkType(x, tHash); err != nil {
			return err
		}
		m := x.(*mapping)
		for _, k := range m.keys {
			val := m.vals[k]
			if err := v.with(k, func() error { return v.checkType(val, tString) }); err != nil {
				return err
			}
		}
		return nil
	case kHooksOutput:
		if m, ok := x.(*mapping); ok {
			for _, k := range m.keys {
				val := m.vals[k]
				if err := v.with(k, func() error { return v.checkType(val, tString) }); err != nil {
					return err
				}
			}
			return nil
		}
		return v.checkType(x, tString)
	case kSSHConfig:
		if _, ok := x.([]any); ok {
			return v.arrayOf(x, tString)
		}
		if _, ok := x.(bool); ok {
			return nil
		}
		if _, ok := x.(string); ok {
			return nil
		}
		return v.typeError(tBoolean, tString, tArray)
	case kHosts:
		return v.servers(x)
	case kSSL:
		if _, ok := x.(bool); ok {
			return nil
		}
		return v.checkType(x, tBoolean, tHash)
	case kPaths:
		return v.paths(x)
	case kHash:
		return v.hash(x, fl.sub, false)
	}
	return nil
}

func (v *validator) arrayOf(x any, t typ) error {
	if err := v.checkType(x, tArray); err != nil {
		return err
	}
	for i, e := range x.([]any) {
		if err := v.with(strconv.Itoa(i), func() error { return v.checkType(e, t) }); err != nil {
			return err
		}
	}
	return nil
}

// stringsOrHashes validates a list whose items are each a string or a
// hash; hash checks a hash item.
func (v *validator) stringsOrHashes(x any, hash func(m *mapping) error) error {
	if err := v.checkType(x, tArray); err != nil {
		return err
	}
	for i, item := range x.([]any) {
		err := v.with(strconv.Itoa(i), func() error {
			if err := v.checkType(item, tString, tHash); err != nil {
				return err
			}
			if m, ok := item.(*mapping); ok {
				return hash(m)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// paths validates accessory files or directories: each a string, or a
// hash whose local, remote, mode, owner and options are strings.
func (v *validator) paths(x any) error {
	return v.stringsOrHashes(x, func(m *mapping) error {
		for _, k := range []string{"local", "remote", "mode", "owner", "options"} {
			if val, ok := m.get(k); ok {
				if err := v.with(k, func() error { return v.checkType(val, tString) }); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// servers validates a list of hosts: each a string, or a one-key hash
// host => tag(s).
func (v *validator) servers(x any) error {
	return v.stringsOrHashes(x, func(m *mapping) error {
		if m.len() != 1 {
			return v.errorf("multiple hosts found")
		}
		host := m.keys[0]
		tags := m.vals[host]
		return v.with(host, func() error {
			if err := v.checkType(tags, tString, tArray); err != nil {
				return err
			}
			if _, ok := tags.([]any); ok {
				return v.arrayOf(tags, tString)
			}
			return nil
		})
	})
}

// validateRoot is the root validator (x- keys allowed).
func validateRoot(raw *mapping, gen Generation) error {
	return (&validator{}).hash(raw, rootSchema(gen), true)
}

// validateServers is the servers validator and each role's validator, in
// Kamal's role order (sorted names).
func validateServers(servers any, gen Generation) error {
	v := &validator{ctx: "servers"}
	if err := v.checkType(servers, tArray, tHash); err != nil {
		return err
	}
	list, isList := servers.([]any)
	if isList {
		return v.servers(list)
	}
	m := servers.(*mapping)
	for _, name := range sortedKeys(m) {
		role := m.vals[name]
		rv := &validator{ctx: "servers/" + name}
		if err := rv.checkType(role, tArray, tHash); err != nil {
			return err
		}
		if _, ok := role.([]any); ok {
			if err := rv.servers(role); err != nil {
				return err
			}
			continue
		}
		if err := rv.hash(role, roleSchema(gen), false); err != nil {
			return err
		}
		rm := role.(*mapping)
		if gen == Kamal2 {
			if err := rv.labelsAndOptions(rm); err != nil {
				return err
			}
		}
		if err := validateEnv(orEmpty(get(rm, "env")), rv.ctx+"/env"); err != nil {
			return err
		}
		if err := validateSection(rv.ctx+"/logging", get(rm, "logging"), loggingSchema); err != nil {
			return err
		}
		if gen == Kamal1 {
			if err := validateSection(rv.ctx+"/healthcheck", get(rm, "healthcheck"), healthcheckSchema); err != nil {
				return err
			}
		}
		if p, ok := get(rm, "proxy").(*mapping); ok && gen == Kamal2 {
			if err := validateProxy(p, rv.ctx+"/proxy"); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateRegistry is Kamal's registry validator: server checked against
// the example, then username and password must be a string or a
// one-element array of strings, and are required unless (Kamal 2) the
// server is a local registry.
func validateRegistry(x any, gen Generation, ctx string) error {
	v := &validator{ctx: ctx}
	if x == nil {
		x = newMapping()
	}
	if err := v.checkType(x, tHash); err != nil {
		return err
	}
	m := x.(*mapping)
	rest := newMapping()
	for _, k := range m.keys {
		if k != "username" && k != "password" {
			rest.set(k, m.vals[k])
		}
	}
	if err := v.hash(rest, []field{f("server", kString)}, false); err != nil {
		return err
	}
	server, _ := m.get("server")
	local := gen == Kamal2 && isLocalRegistry(server)
	for _, key := range []string{"username", "password"} {
		val, _ := m.get(key)
		err := v.with(key, func() error {
			if local {
				return nil
			}
			if !present(val) {
				return v.errorf("is required")
			}
			if _, ok := val.(string); ok {
				return nil
			}
			if arr, ok := val.([]any); ok && len(arr) == 1 {
				if _, ok := arr[0].(string); ok {
					return nil
				}
			}
			return v.errorf("should be a string or an array with one string (for secret lookup)")
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// validateBuilder is the builder validator for the generation.
func validateBuilder(x any, gen Generation) error {
	v := &validator{ctx: "builder"}
	if x == nil {
		x = newMapping()
	}
	if err := v.hash(x, builderSchema(gen), false); err != nil {
		return err
	}
	m := x.(*mapping)
	if c, ok := m.get("cache"); ok {
		if cm, ok := c.(*mapping); ok {
			if t, ok := cm.get("type"); ok && t != nil {
				if ts := rubyString(t); ts != "gha" && ts != "registry" {
					return v.errorf("Invalid cache type: %s", ts)
				}
			}
		}
	}
	if gen != Kamal2 {
		return nil
	}
	if arch, _ := m.get("arch"); !present(arch) {
		return v.errorf("Builder arch not set")
	}
	// A pack build makes one image for one platform (validator/builder.rb).
	if pack, _ := m.get("pack"); pack != nil && pack != false {
		if arches, ok := m.vals["arch"].([]any); ok && len(arches) > 1 {
			return v.errorf("buildpacks only support building for one arch")
		}
	}
	if local, ok := m.get("local"); ok && local == false {
		if remote, _ := m.get("remote"); !present(remote) {
			return v.errorf("Cannot disable local builds, no remote is set")
		}
	}
	return nil
}

func validateSection(name string, x any, schema []field) error {
	if x == nil {
		return nil
	}
	return (&validator{ctx: name}).hash(x, schema, false)
}

// present is ActiveSupport's present?: not nil, not false, not an empty
// or whitespace-only string, not an empty array or hash.
func present(x any) bool {
	switch x := x.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return strings.TrimSpace(x) != ""
	case []any:
		return len(x) > 0
	case *mapping:
		return x.len() > 0
	}
	return true
}

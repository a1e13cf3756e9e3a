package main

import (
	"context"
	"fmt"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/psych"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/shell"
)

// configOptions are `kamal config`'s: the class options (-c, -d).
type configOptions struct {
	*globalOptions
}

func newConfigCommand() *command {
	return &command{
		name: "config", usage: "kamal config", summary: "Show combined config (including secrets!)",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			return runConfig(ctx, c, &configOptions{globalOptions: g})
		},
		help: func(_ context.Context, c *cli, _ *globalOptions) error {
			fmt.Fprintf(c.Out, "Usage:\n  kamal config\n\nOptions:\n")
			printOptionRows(c.Out)
			fmt.Fprintf(c.Out, "\nShow combined config (including secrets!)\n")
			return nil
		},
	}
}

// runConfig prints the resolved configuration as Kamal's
// `puts Kamal::Utils.redacted(KAMAL.config.to_h).to_yaml` does. Unlike
// Kamal, whose ssh key_data shows the private keys, no secret value is
// printed: key_data entries read [REDACTED], and any secret value that
// reached the output otherwise is redacted too.
func runConfig(_ context.Context, c *cli, o *configOptions) error {
	env, err := c.newEnv(o.globalOptions, "config", "config")
	if err != nil {
		return err
	}
	defer env.Close()
	// Like Kamal's to_h, this reads no secret (no vendor CLI runs for it);
	// any secret value already resolved is scrubbed all the same.
	fmt.Fprint(c.Out, c.log.Scrub(psych.Dump(configHash(env))))
	return nil
}

// configHash is Kamal's Configuration#to_h for the config's generation.
func configHash(env *runstate.State) psych.Map {
	cfg := env.Config
	kamal1 := cfg.Generation == config.Kamal1
	var roles []string
	for _, r := range cfg.Roles {
		roles = append(roles, r.Name)
	}
	hosts := cfg.AllHosts()
	if kamal1 {
		hosts = roleHosts(cfg)
	}
	h := psych.Map{
		{Key: psych.Symbol("roles"), Value: roles},
		{Key: psych.Symbol("hosts"), Value: hosts},
	}
	if p := cfg.PrimaryHost(); p != "" {
		h = append(h, psych.Pair{Key: psych.Symbol("primary_host"), Value: p})
	}
	h = append(h,
		psych.Pair{Key: psych.Symbol("version"), Value: env.Version},
		psych.Pair{Key: psych.Symbol("repository"), Value: cfg.Repository()},
		psych.Pair{Key: psych.Symbol("absolute_image"), Value: cfg.AbsoluteImage(env.Version)},
		psych.Pair{Key: psych.Symbol("service_with_version"), Value: cfg.Service + "-" + env.Version},
		psych.Pair{Key: psych.Symbol("volume_args"), Value: volumeArgs(cfg)},
		psych.Pair{Key: psych.Symbol("ssh_options"), Value: sshOptions(cfg)},
		psych.Pair{Key: psych.Symbol("sshkit"), Value: rawMap(cfg, "sshkit")},
		psych.Pair{Key: psych.Symbol("builder"), Value: rawMap(cfg, "builder")},
	)
	if acc, ok := cfg.RawSection("accessories"); ok && acc != nil {
		h = append(h, psych.Pair{Key: psych.Symbol("accessories"), Value: toPsych(acc)})
	}
	h = append(h, psych.Pair{Key: psych.Symbol("logging"), Value: loggingArgs(cfg)})
	if kamal1 {
		h = append(h, psych.Pair{Key: psych.Symbol("healthcheck"), Value: healthcheck(cfg)})
	}
	return h
}

func roleHosts(cfg *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range cfg.Roles {
		for _, h := range r.Hosts {
			if !seen[h] {
				seen[h] = true
				out = append(out, h)
			}
		}
	}
	return out
}

// toPsych turns the config's raw values into psych's.
func toPsych(v any) any {
	switch v := v.(type) {
	case *config.OrderedMap:
		m := psych.Map{}
		for _, k := range v.Keys {
			m = append(m, psych.Pair{Key: k, Value: toPsych(v.Values[k])})
		}
		return m
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = toPsych(e)
		}
		return out
	}
	return v
}

// rawMap is a raw section as Kamal's to_h returns it: the hash as
// written, {} when absent.
func rawMap(cfg *config.Config, key string) psych.Map {
	v, _ := cfg.RawSection(key)
	if m, ok := toPsych(v).(psych.Map); ok {
		return m
	}
	return psych.Map{}
}

func rawSub(cfg *config.Config, section, key string) (any, bool) {
	v, _ := cfg.RawSection(section)
	m, ok := v.(*config.OrderedMap)
	if !ok {
		return nil, false
	}
	x, ok := m.Values[key]
	return x, ok && x != nil
}

// sshOptions is Kamal's Ssh#to_h: the net-ssh options without the
// logger, plus the log level.
func sshOptions(cfg *config.Config) psych.Map {
	m := psych.Map{}
	add := func(k string, v any) { m = append(m, psych.Pair{Key: psych.Symbol(k), Value: v}) }
	if u, ok := rawSub(cfg, "ssh", "user"); ok {
		add("user", u)
	} else {
		add("user", "root")
	}
	if p, ok := rawSub(cfg, "ssh", "port"); ok {
		add("port", p)
	} else {
		add("port", 22)
	}
	switch {
	case cfg.SSH.Proxy != "":
		add("proxy", psych.Object{Class: "Net::SSH::Proxy::Jump", Ivars: psych.Map{{Key: "jump_proxies", Value: cfg.SSH.Proxy}}})
	case cfg.SSH.ProxyCommand != "":
		add("proxy", psych.Object{Class: "Net::SSH::Proxy::Command", Ivars: psych.Map{{Key: "command_line_template", Value: cfg.SSH.ProxyCommand}, {Key: "command_line", Value: nil}, {Key: "timeout", Value: nil}}})
	}
	add("keepalive", true)
	add("keepalive_interval", 30)
	for _, k := range []string{"keys_only", "keys"} {
		if v, ok := rawSub(cfg, "ssh", k); ok {
			add(k, toPsych(v))
		}
	}
	if len(cfg.SSH.KeyData) > 0 {
		redacted := make([]string, len(cfg.SSH.KeyData))
		for i := range redacted {
			redacted[i] = shell.Redacted
		}
		add("key_data", redacted)
	}
	if cfg.Generation != config.Kamal1 {
		if v, ok := rawSub(cfg, "ssh", "config"); ok {
			add("config", toPsych(v))
		}
	}
	if v, ok := rawSub(cfg, "ssh", "log_level"); ok {
		add("log_level", v)
	} else {
		add("log_level", psych.Symbol("fatal"))
	}
	return m
}

// volumeArgs is Kamal's argumentize("--volume", volumes).
func volumeArgs(cfg *config.Config) []string {
	out := []string{}
	v, _ := cfg.RawSection("volumes")
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, "--volume", fmt.Sprint(e))
	}
	return out
}

func escapeValue(cfg *config.Config, s string) string {
	if cfg.Generation == config.Kamal1 {
		return shell.EscapeV1(s)
	}
	return shell.Escape(s)
}

// loggingArgs is Kamal's logging_args: --log-driver and one --log-opt per
// option, or the default --log-opt max-size="10m".
func loggingArgs(cfg *config.Config) []string {
	driver, hasDriver := rawSub(cfg, "logging", "driver")
	opts, _ := rawSub(cfg, "logging", "options")
	om, _ := opts.(*config.OrderedMap)
	if !hasDriver && (om == nil || len(om.Keys) == 0) {
		return []string{"--log-opt", "max-size=" + escapeValue(cfg, "10m")}
	}
	var out []string
	if hasDriver {
		out = append(out, "--log-driver", escapeValue(cfg, fmt.Sprint(driver)))
	}
	if om != nil {
		for _, k := range om.Keys {
			out = append(out, "--log-opt", k+"="+escapeValue(cfg, fmt.Sprint(om.Values[k])))
		}
	}
	return out
}

// healthcheck is Kamal 1's healthcheck hash: the defaults merged with
// the configured keys.
func healthcheck(cfg *config.Config) psych.Map {
	m := psych.Map{{Key: "path", Value: "/up"}, {Key: "port", Value: 3000}, {Key: "max_attempts", Value: 7},
		{Key: "exposed_port", Value: 3999}, {Key: "cord", Value: "/tmp/kamal-cord"}, {Key: "log_lines", Value: 50}}
	raw, _ := cfg.RawSection("healthcheck")
	om, ok := raw.(*config.OrderedMap)
	if !ok {
		return m
	}
	index := map[any]int{}
	for i, p := range m {
		index[p.Key] = i
	}
	for _, k := range om.Keys {
		if i, ok := index[k]; ok {
			m[i].Value = toPsych(om.Values[k])
			continue
		}
		m = append(m, psych.Pair{Key: k, Value: toPsych(om.Values[k])})
	}
	return m
}

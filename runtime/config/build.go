package config

import (
	"regexp"
	"strconv"
	"strings"
)

// build validates raw in Kamal's order (root keys, then each section as it
// is constructed, then the semantic checks) and fills a Config.
func (l *loader) build(raw *mapping, gen Generation, dot map[string]string) (*Config, error) {
	if err := validateRoot(raw, gen); err != nil {
		return nil, err
	}
	// Kamal's own validators see the document without kamal-go's old
	// spellings, which are checked and merged with x-kamal-go next.
	if err := validateSections(withoutLegacy(raw), gen); err != nil {
		return nil, err
	}
	ext, err := decodeExtensions(raw)
	if err != nil {
		return nil, err
	}
	servers, _ := raw.get("servers")
	registry, _ := raw.get("registry")
	builder, _ := raw.get("builder")
	ssh, _ := raw.get("ssh")
	sshkit, _ := raw.get("sshkit")

	c := &Config{
		Generation:  gen,
		Path:        l.files[0].abs,
		Destination: l.dest,
		Progress:    ext.progress,
		Service:     str(raw, "service"),
		Image:       str(raw, "image"),
		PrimaryRole: strOr(raw, "primary_role", "web"),
		HooksPath:   strOr(raw, "hooks_path", ".kamal/hooks"),
		SecretsPath: strOr(raw, "secrets_path", ".kamal/secrets"),
		Raw:         plain(raw).(map[string]any),
		rawDoc:      raw,
		dir:         l.dir,
		getenv:      l.getenv,
		dotenv:      dot,
	}
	c.Release, c.ReleaseReason = l.release, l.releaseReason
	c.RunDirectory = DefaultRunDirectory
	if gen == Kamal1 {
		c.RunDirectory = strOr(raw, "run_directory", DefaultRunDirectory)
	}
	c.RequireDestination, _ = get(raw, "require_destination").(bool)
	c.AllowEmptyRoles, _ = get(raw, "allow_empty_roles").(bool)
	c.Roles = decodeRoles(servers)
	c.AccessoryHosts = accessoryHosts(get(raw, "accessories"), c.Roles)
	c.Registry = decodeRegistry(registry, gen)
	if gen == Kamal2 && !present(get(raw, "image")) && c.Registry.Local {
		c.Image = c.Service
	}
	c.Builder = decodeBuilder(builder, gen)
	for _, old := range ext.legacy {
		c.Warnings = append(c.Warnings, legacyWarning(old))
	}
	c.LegacyKeys = ext.legacy
	if c.SSH, err = decodeSSH(ssh, ext, gen, &c.Warnings); err != nil {
		return nil, err
	}
	c.SSHKit = decodeSSHKit(sshkit, ext)
	if c.Serve, err = decodeServe(ext); err != nil {
		return nil, err
	}
	c.HooksOutput, c.HookOutputs = decodeHooksOutput(get(raw, "hooks_output"))

	getenv := l.getenv
	if gen == Kamal1 {
		getenv = c.Getenv
	}
	c.secrets = newSecrets(gen, l.dir, c.SecretsPath, l.dest, getenv, l.shell(dot))
	c.secrets.onSecret = l.opts.OnSecret
	if l.opts.OnSecret != nil {
		// A registry password written in the file is a secret too, as
		// is inline ssh key_data.
		if p := c.Registry.Password; p.Secret == "" && p.Literal != "" {
			l.opts.OnSecret(p.Literal)
		}
		for _, k := range c.SSH.KeyData {
			if k.Secret == "" && k.Literal != "" {
				l.opts.OnSecret(k.Literal)
			}
		}
	}

	if err := c.check(raw, l.opts.KamalVersion); err != nil {
		return nil, err
	}
	return c, nil
}

func get(m *mapping, key string) any {
	v, _ := m.get(key)
	return v
}

func str(m *mapping, key string) string {
	return rubyString(get(m, key))
}

func strOr(m *mapping, key, def string) string {
	v := get(m, key)
	if v == nil {
		return def
	}
	return rubyString(v)
}

func strs(x any) []string {
	switch x := x.(type) {
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, rubyString(e))
		}
		return out
	case nil:
		return nil
	default:
		return []string{rubyString(x)}
	}
}

// hostsOf returns the hosts of a servers list (host strings or one-key
// host => tags hashes).
func hostsOf(x any) []string {
	list, _ := x.([]any)
	var out []string
	for _, item := range list {
		if m, ok := item.(*mapping); ok {
			out = append(out, m.keys...)
			continue
		}
		out = append(out, rubyString(item))
	}
	return out
}

func decodeRoles(servers any) []Role {
	switch s := servers.(type) {
	case []any:
		return []Role{{Name: "web", Hosts: hostsOf(s)}}
	case *mapping:
		roles := make([]Role, 0, s.len())
		for _, name := range sortedKeys(s) {
			r := Role{Name: name}
			switch v := s.vals[name].(type) {
			case []any:
				r.Hosts = hostsOf(v)
			case *mapping:
				r.Hosts = hostsOf(get(v, "hosts"))
			}
			roles = append(roles, r)
		}
		return roles
	}
	return nil
}

// accessoryHosts returns hosts named by accessories (host, hosts or roles,
// the first given) that no role names, in accessory order.
func accessoryHosts(accessories any, roles []Role) []string {
	m, _ := accessories.(*mapping)
	seen := map[string]bool{}
	for _, r := range roles {
		for _, h := range r.Hosts {
			seen[h] = true
		}
	}
	var out []string
	add := func(h string) {
		if h != "" && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for _, name := range m.keysOrNil() {
		acc, _ := m.vals[name].(*mapping)
		switch {
		case acc == nil:
		case get(acc, "host") != nil:
			add(rubyString(get(acc, "host")))
		case get(acc, "hosts") != nil:
			for _, h := range hostsOf(get(acc, "hosts")) {
				add(h)
			}
		case get(acc, "roles") != nil:
			for _, rn := range strs(get(acc, "roles")) {
				for _, r := range roles {
					if r.Name == rn {
						for _, h := range r.Hosts {
							add(h)
						}
					}
				}
			}
		}
	}
	return out
}

func (m *mapping) keysOrNil() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

func decodeValue(x any) Value {
	switch x := x.(type) {
	case []any:
		if len(x) > 0 {
			return Value{Secret: rubyString(x[0])}
		}
		return Value{}
	case nil:
		return Value{}
	}
	return Value{Literal: rubyString(x)}
}

func decodeRegistry(x any, gen Generation) Registry {
	m, _ := x.(*mapping)
	if m == nil {
		m = newMapping()
	}
	r := Registry{
		Server:   str(m, "server"),
		Username: decodeValue(get(m, "username")),
		Password: decodeValue(get(m, "password")),
	}
	if gen == Kamal2 && isLocalRegistry(get(m, "server")) {
		r.Local = true
		r.LocalPort = leadingInt(r.Server[strings.LastIndexByte(r.Server, ':')+1:])
	}
	return r
}

// isLocalRegistry is Kamal 2's /^localhost[:$]/ on registry.server: only
// "localhost:<port>" counts ("$" in a character class is a literal).
func isLocalRegistry(server any) bool {
	s, ok := server.(string)
	return ok && (strings.HasPrefix(s, "localhost:") || strings.HasPrefix(s, "localhost$"))
}

// leadingInt is Ruby's String#to_i.
func leadingInt(s string) int {
	s = strings.TrimLeft(s, " \t\n")
	end := 0
	if end < len(s) && (s[end] == '-' || s[end] == '+') {
		end++
	}
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

func decodeBuilder(x any, gen Generation) Builder {
	m, _ := x.(*mapping)
	if m == nil {
		m = newMapping()
	}
	b := Builder{
		Dockerfile: strOr(m, "dockerfile", "Dockerfile"),
		Target:     str(m, "target"),
		Secrets:    strs(get(m, "secrets")),
		SSH:        str(m, "ssh"),
	}
	if ctx, ok := m.get("context"); ok && ctx != nil {
		b.HasContext, b.Context = true, rubyString(ctx)
	}
	if args, ok := get(m, "args").(*mapping); ok {
		for _, k := range args.keys {
			v := args.vals[k]
			kv := KV{Key: k, Value: rubyString(v)}
			kv.IsFalse = v == false
			kv.IsEmpty = v == nil || v == ""
			b.Args = append(b.Args, kv)
		}
	}
	if cache, ok := get(m, "cache").(*mapping); ok {
		b.Cache = &Cache{Type: str(cache, "type"), Options: str(cache, "options"), Image: str(cache, "image")}
	}
	if gen == Kamal2 {
		b.Arches = strs(get(m, "arch"))
		b.Remote = str(m, "remote")
		b.Driver = strOr(m, "driver", "docker-container")
		if v, ok := get(m, "local").(bool); ok {
			b.Local = &v
		}
		if v, ok := m.get("provenance"); ok && v != nil {
			s := rubyString(v)
			b.Provenance = &s
		}
		if v, ok := get(m, "sbom").(bool); ok {
			b.SBOM = &v
		}
		if pack, ok := get(m, "pack").(*mapping); ok {
			b.Pack = &Pack{Builder: str(pack, "builder"), Buildpacks: strs(get(pack, "buildpacks"))}
		}
		return b
	}
	if v, ok := get(m, "multiarch").(bool); ok {
		b.Multiarch = &v
	}
	if h, ok := get(m, "local").(*mapping); ok {
		b.LocalHost = &ArchHost{Arch: str(h, "arch"), Host: str(h, "host")}
	}
	if h, ok := get(m, "remote").(*mapping); ok {
		b.RemoteHost = &ArchHost{Arch: str(h, "arch"), Host: str(h, "host")}
	}
	return b
}

// secretName is what a dotenv key may look like; Kamal 2 key_data entries
// that cannot be a key are inline keys.
var secretName = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)

func decodeSSH(x any, ext *extensions, gen Generation, warnings *[]string) (SSH, error) {
	m, _ := x.(*mapping)
	if m == nil {
		m = newMapping()
	}
	s := SSH{
		User:         str(m, "user"),
		Proxy:        str(m, "proxy"),
		ProxyCommand: str(m, "proxy_command"),
		Keys:         strs(get(m, "keys")),
		LogLevel:     strOr(m, "log_level", "fatal"),
	}
	if p, ok := m.get("port"); ok && p != nil {
		// Kamal takes a number or a string (its documentation writes
		// port: "2222") and hands it to Net::SSH as it is.
		if port, err := strconv.Atoi(strings.TrimSpace(rubyString(p))); err == nil && port > 0 && port < 65536 {
			s.Port = port
		} else {
			s.BadPort = rubyString(p)
		}
	}
	if s.Proxy != "" && !strings.Contains(s.Proxy, "@") {
		s.Proxy = "root@" + s.Proxy
	}
	if v, ok := ext.get("ssh", "connect_timeout").(int); ok {
		if v <= 0 {
			return s, configErrorf("%s: should be a positive number of seconds", ext.path("ssh", "connect_timeout"))
		}
		s.ConnectTimeout = v
	}
	s.KeysOnly, _ = get(m, "keys_only").(bool)
	s.ForwardAgent, _ = get(m, "forward_agent").(bool)
	for _, k := range strs(get(m, "key_data")) {
		if gen == Kamal2 && secretName.MatchString(k) {
			s.KeyData = append(s.KeyData, Value{Secret: k})
			continue
		}
		if gen == Kamal2 {
			*warnings = append(*warnings, inlineKeyDataWarning)
		}
		s.KeyData = append(s.KeyData, Value{Literal: k})
	}
	switch v := get(m, "config").(type) {
	case bool:
		s.NoConfig = !v
	case string:
		s.ConfigFiles = []string{v}
	case []any:
		s.ConfigFiles = strs(v)
	}
	return s, nil
}

func decodeSSHKit(x any, ext *extensions) SSHKit {
	m, _ := x.(*mapping)
	k := SSHKit{MaxConcurrentStarts: 30, PoolIdleTimeout: 900, DNSRetries: 3}
	if v, ok := get(m, "max_concurrent_starts").(int); ok {
		k.MaxConcurrentStarts = v
	}
	if v, ok := get(m, "pool_idle_timeout").(int); ok {
		k.PoolIdleTimeout = v
	}
	if v, ok := get(m, "dns_retries").(int); ok {
		k.DNSRetries = v
	}
	if v, ok := ext.get("sshkit", "max_concurrent_hosts").(int); ok {
		k.MaxConcurrentHosts = v
	}
	if v, ok := ext.get("sshkit", "command_timeout").(int); ok && v > 0 {
		k.CommandTimeout = v
	}
	return k
}

// decodeServe reads x-kamal-go/serve, the settings of --serve. A bound
// of zero or less on hosts or bytes in flight would serve nothing, so it
// is refused.
func decodeServe(ext *extensions) (Serve, error) {
	s := Serve{CacheMaxMB: DefaultCacheMaxMB, MaxHosts: DefaultServeMaxHosts, MaxMBInFlight: DefaultServeMaxMBInFlight}
	if v, ok := ext.get("serve", "cache_max_mb").(int); ok {
		if v < 0 {
			return s, configErrorf("%s: should be 0 (no cache) or a number of megabytes", ext.path("serve", "cache_max_mb"))
		}
		s.CacheMaxMB = v
	}
	for _, b := range []struct {
		key string
		to  *int
	}{{"max_hosts", &s.MaxHosts}, {"max_mb_in_flight", &s.MaxMBInFlight}} {
		v, ok := ext.get("serve", b.key).(int)
		if !ok {
			continue
		}
		if v <= 0 {
			return s, configErrorf("%s: should be a positive integer", ext.path("serve", b.key))
		}
		*b.to = v
	}
	return s, nil
}

// decodeHooksOutput returns the global level and the per-hook levels
// (":quiet" and "quiet" are the same).
func decodeHooksOutput(x any) (string, map[string]string) {
	switch v := x.(type) {
	case nil:
		return "", nil
	case *mapping:
		per := make(map[string]string, v.len())
		for _, k := range v.keys {
			per[k] = strings.TrimPrefix(rubyString(v.vals[k]), ":")
		}
		return "", per
	default:
		return strings.TrimPrefix(rubyString(v), ":"), nil
	}
}

// HookOutput returns the hooks_output level ("quiet", "verbose" or "")
// for the named hook: its own setting, else the global one.
func (c *Config) HookOutput(hook string) string {
	if v, ok := c.HookOutputs[hook]; ok {
		return v
	}
	return c.HooksOutput
}

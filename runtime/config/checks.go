package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/sshurl"

	"github.com/kamal-go/kamal/runtime/ruby"
)

var serviceName = regexp.MustCompile(`(?im)^[a-z0-9_-]+$`)

// check runs Kamal's semantic checks after the sections are built, in
// Kamal's order. running overrides the Kamal version minimum_version is
// compared with.
func (c *Config) check(raw *mapping, running string) error {
	gen := c.Generation
	if c.RequireDestination && c.Destination == "" {
		return newError(kamalerr.ClassArgument, "You must specify a destination")
	}
	for _, key := range []string{"service", "image", "registry"} {
		if !present(get(raw, key)) && !(key == "image" && c.Image != "") {
			return configErrorf("Missing required configuration for %s", key)
		}
	}
	servers, hasServers := raw.get("servers")
	if gen == Kamal1 && !present(servers) {
		return configErrorf("Missing required configuration for servers")
	}
	if gen == Kamal2 && !hasServers {
		if !present(get(raw, "accessories")) {
			return configErrorf("No servers or accessories specified")
		}
	} else if err := c.checkRoles(); err != nil {
		return err
	}
	if mv := get(raw, "minimum_version"); mv != nil {
		if running == "" {
			running = c.Release.Version()
		}
		min := rubyString(mv)
		cmp, err := compareGemVersions(min, running)
		if err != nil {
			return err
		}
		if cmp > 0 {
			return configErrorf("Current version is %s, minimum required is %s", running, min)
		}
	}
	if rc, ok := get(raw, "retain_containers").(int); ok && rc < 1 {
		return configErrorf("Must retain at least 1 container")
	}
	if svc, ok := get(raw, "service").(string); !ok || !serviceName.MatchString(svc) {
		return configErrorf("Service name can only include alphanumeric characters, hyphens, and underscores")
	}
	if gen == Kamal1 {
		return nil
	}
	var found []string
	for _, hook := range []string{"pre-traefik-reboot", "post-traefik-reboot"} {
		if _, err := os.Stat(absIn(c.dir, filepath.Join(c.HooksPath, hook))); err == nil {
			found = append(found, hook)
		}
	}
	if len(found) > 0 {
		return configErrorf("Found %s, these should be renamed to (pre|post)-proxy-reboot", strings.Join(found, ", "))
	}
	if err := c.checkSSLRoles(raw); err != nil {
		return err
	}
	if c.Registry.Local && c.Builder.Remote != "" {
		if _, err := sshurl.Parse(c.Builder.Remote); err != nil {
			return configErrorf("Local registry with remote builder requires an SSH URL (e.g., ssh://user@host)")
		}
	}
	if err := c.checkProxyRuns(raw); err != nil {
		return err
	}
	return checkHooksOutput(get(raw, "hooks_output"))
}

// checkSSLRoles is Kamal 2's rule for automatic SSL: a role that runs
// the proxy with ssl (the root proxy merged with the role's own) has one
// host unless it brings its own certificate, and no two such roles serve
// the same proxy host.
func (c *Config) checkSSLRoles(raw *mapping) error {
	type sslRole struct {
		name  string
		proxy *mapping
	}
	var ssl []sslRole
	for _, pr := range c.proxiedRoles(raw) {
		r, proxy := pr.role, pr.proxy
		if !ruby.Truthy(get(proxy, "ssl")) {
			continue
		}
		custom := false
		if sm, ok := get(proxy, "ssl").(*mapping); ok {
			custom = present(get(sm, "certificate_pem"))
		}
		if len(r.Hosts) > 1 && !custom {
			return configErrorf("SSL is only supported on a single server unless you provide custom certificates, found %d servers for role %s", len(r.Hosts), r.Name)
		}
		ssl = append(ssl, sslRole{r.Name, proxy})
	}
	count := map[string]int{}
	var order []string
	for _, r := range ssl {
		hosts := strs(get(r.proxy, "hosts"))
		if _, ok := r.proxy.get("hosts"); !ok || get(r.proxy, "hosts") == nil {
			hosts = nil
			if h := get(r.proxy, "host"); h != nil {
				hosts = strings.Split(rubyString(h), ",")
			}
		}
		for _, h := range hosts {
			if count[h] == 0 {
				order = append(order, h)
			}
			count[h]++
		}
	}
	var dups []string
	for _, h := range order {
		if count[h] > 1 {
			dups = append(dups, h)
		}
	}
	if len(dups) > 0 {
		return configErrorf("Different roles can't share the same host for SSL: %s", strings.Join(dups, ", "))
	}
	return nil
}

// proxiedRole is a role that runs kamal-proxy, with its proxy settings:
// the root proxy merged with the role's own.
type proxiedRole struct {
	role  Role
	proxy *mapping
}

// proxiedRoles are the roles that run kamal-proxy, in order: those whose
// proxy is set (true or a hash), and the primary role unless its proxy
// is false.
func (c *Config) proxiedRoles(raw *mapping) []proxiedRole {
	root, _ := get(raw, "proxy").(*mapping)
	if root == nil {
		root = newMapping()
	}
	roles, _ := get(raw, "servers").(*mapping)
	var out []proxiedRole
	for _, r := range c.Roles {
		var own any
		if roles != nil {
			if rm, ok := roles.vals[r.Name].(*mapping); ok {
				own, _ = rm.get("proxy")
			}
		}
		running := ruby.Truthy(own)
		if r.Name == c.PrimaryRole {
			running = own != false
		}
		if !running {
			continue
		}
		proxy := root
		if om, ok := own.(*mapping); ok {
			proxy = deepMerge(root, om)
		}
		out = append(out, proxiedRole{r, proxy})
	}
	return out
}

// checkProxyRuns is Kamal 2's rule that one host runs one kamal-proxy:
// the proxy/run settings of every role running the proxy there (the root
// proxy merged with the role's) and of every accessory proxied there must
// be the same.
func (c *Config) checkProxyRuns(raw *mapping) error {
	runs := map[string][]any{} // host -> run settings, plain
	var order []string
	add := func(host string, run any) {
		if run == nil {
			return
		}
		if _, seen := runs[host]; !seen {
			order = append(order, host)
		}
		runs[host] = append(runs[host], plain(run))
	}
	for _, pr := range c.proxiedRoles(raw) {
		for _, h := range pr.role.Hosts {
			add(h, get(pr.proxy, "run"))
		}
	}
	accessories, _ := get(raw, "accessories").(*mapping)
	for _, name := range accessories.keysOrNil() {
		acc, _ := accessories.vals[name].(*mapping)
		proxy, ok := get(acc, "proxy").(*mapping)
		if acc == nil || !ok {
			continue
		}
		for _, h := range c.accessoryHostsOf(acc, get(raw, "servers")) {
			add(h, get(proxy, "run"))
		}
	}
	for _, h := range order {
		for _, run := range runs[h][1:] {
			if !reflect.DeepEqual(run, runs[h][0]) {
				return configErrorf("Conflicting proxy run configurations for host %s", h)
			}
		}
	}
	return nil
}

// accessoryHostsOf is the hosts one accessory runs on: its host, hosts,
// role(s) or tag(s).
func (c *Config) accessoryHostsOf(acc *mapping, rawServers any) []string {
	switch {
	case get(acc, "host") != nil:
		return []string{rubyString(get(acc, "host"))}
	case get(acc, "hosts") != nil:
		return hostsOf(get(acc, "hosts"))
	case get(acc, "role") != nil || get(acc, "roles") != nil:
		names := strs(get(acc, "roles"))
		if r := get(acc, "role"); r != nil {
			names = []string{rubyString(r)}
		}
		var out []string
		for _, n := range names {
			if r := c.Role(n); r != nil {
				out = append(out, r.Hosts...)
			}
		}
		return out
	}
	tags := strs(get(acc, "tags"))
	if t := get(acc, "tag"); t != nil {
		tags = []string{rubyString(t)}
	}
	// Tagged hosts are items `host: tag(s)` of roles given as lists.
	servers, _ := rawServers.(*mapping)
	var out []string
	for _, role := range servers.keysOrNil() {
		list, _ := servers.vals[role].([]any)
		for _, item := range list {
			if m, ok := item.(*mapping); ok && m.len() == 1 {
				host := m.keys[0]
				for _, tag := range tags {
					if slices.Contains(strs(m.vals[host]), tag) {
						out = append(out, host)
					}
				}
			}
		}
	}
	return out
}

func (c *Config) checkRoles() error {
	var primary *Role
	for i := range c.Roles {
		if c.Roles[i].Name == c.PrimaryRole {
			primary = &c.Roles[i]
		}
	}
	if primary == nil {
		return configErrorf("The primary_role %s isn't defined", c.PrimaryRole)
	}
	if len(primary.Hosts) == 0 {
		return configErrorf("No servers specified for the %s primary_role", primary.Name)
	}
	if !c.AllowEmptyRoles {
		for _, r := range c.Roles {
			if len(r.Hosts) == 0 {
				return configErrorf("No servers specified for the %s role. You can ignore this with allow_empty_roles: true", r.Name)
			}
		}
	}
	return nil
}

func checkHooksOutput(x any) error {
	valid := func(v any) bool {
		s := strings.TrimPrefix(rubyString(v), ":")
		return s == "quiet" || s == "verbose"
	}
	switch v := x.(type) {
	case nil:
		return nil
	case *mapping:
		for _, hook := range v.keys {
			if !valid(v.vals[hook]) {
				return configErrorf("Invalid hooks_output '%s' for hook '%s', must be one of: quiet, verbose", rubyString(v.vals[hook]), hook)
			}
		}
		return nil
	default:
		if !valid(v) {
			return configErrorf("Invalid hooks_output '%s', must be one of: quiet, verbose", rubyString(v))
		}
		return nil
	}
}

var gemVersionPattern = regexp.MustCompile(`^\s*[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?\s*$`)

// compareGemVersions compares like Gem::Version#<=>: numeric segments
// numerically, a segment with letters marks a prerelease, which sorts
// before the release; trailing zero segments do not count.
func compareGemVersions(a, b string) (int, error) {
	sa, err := gemSegments(a)
	if err != nil {
		return 0, err
	}
	sb, err := gemSegments(b)
	if err != nil {
		return 0, err
	}
	for i := 0; i < len(sa) || i < len(sb); i++ {
		var x, y any = 0, 0
		if i < len(sa) {
			x = sa[i]
		}
		if i < len(sb) {
			y = sb[i]
		}
		xi, xNum := x.(int)
		yi, yNum := y.(int)
		switch {
		case xNum && yNum:
			if xi != yi {
				return sign(xi - yi), nil
			}
		case xNum:
			return 1, nil
		case yNum:
			return -1, nil
		default:
			if c := strings.Compare(x.(string), y.(string)); c != 0 {
				return c, nil
			}
		}
	}
	return 0, nil
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}

var gemSegment = regexp.MustCompile(`[0-9]+|[a-zA-Z]+`)

func gemSegments(v string) ([]any, error) {
	if !gemVersionPattern.MatchString(v) {
		return nil, newError(kamalerr.ClassArgument, "Malformed version number string %s", v)
	}
	v = strings.ReplaceAll(strings.TrimSpace(v), "-", ".pre.")
	var segs []any
	for _, s := range gemSegment.FindAllString(v, -1) {
		if n, err := strconv.Atoi(s); err == nil {
			segs = append(segs, n)
		} else {
			segs = append(segs, s)
		}
	}
	// Drop trailing zeros (Gem::Version#canonical_segments), before and
	// after the prerelease part.
	for len(segs) > 1 && segs[len(segs)-1] == 0 {
		segs = segs[:len(segs)-1]
	}
	return segs, nil
}

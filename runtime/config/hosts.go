package config

import (
	"slices"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// Selection is the result of --hosts, --roles and --primary.
type Selection struct {
	// Hosts are the selected hosts, hosts of the effective primary role
	// first (KAMAL_HOSTS).
	Hosts []string
	// Roles are the names of the selected roles, the effective primary
	// role first.
	Roles []string
	// AppHosts are the role hosts among Hosts, primary-role hosts first
	// (Kamal 2 pull and remote login). Kamal 1: Hosts.
	AppHosts []string
	// Primary is the primary host ("" when no role has a host).
	Primary string
}

// AllHosts returns every configured host: role hosts in role order, then
// accessory hosts, without duplicates.
func (c *Config) AllHosts() []string {
	var out []string
	for _, r := range c.Roles {
		out = append(out, r.Hosts...)
	}
	out = append(out, c.AccessoryHosts...)
	return dedupe(out)
}

// appHosts returns the role hosts, without duplicates.
func (c *Config) appHosts() []string {
	var out []string
	for _, r := range c.Roles {
		out = append(out, r.Hosts...)
	}
	return dedupe(out)
}

// Role returns the named role, or nil.
func (c *Config) Role(name string) *Role {
	for i := range c.Roles {
		if c.Roles[i].Name == name {
			return &c.Roles[i]
		}
	}
	return nil
}

// PrimaryHost is the first host of the primary role ("" if none).
func (c *Config) PrimaryHost() string {
	if r := c.Role(c.PrimaryRole); r != nil && len(r.Hosts) > 0 {
		return r.Hosts[0]
	}
	return ""
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// filterSpecific is Kamal::Utils.filter_specific_items: the items matching
// each pattern, pattern by pattern, without duplicates.
func filterSpecific(patterns, items []string) []string {
	var out []string
	for _, p := range patterns {
		for _, item := range items {
			if ruby.Fnmatch(p, item) {
				out = append(out, item)
			}
		}
	}
	return dedupe(out)
}

// Select applies --hosts patterns, --roles patterns and --primary the way
// Kamal's Commander does. Patterns are already split on ","; no patterns
// means no filter. Unmatched patterns are ArgumentErrors
// "No --hosts match for <patterns>" / "No --roles match for <patterns>".
//
// Roles selected: the specific roles (or all) having a host among the
// specific hosts (or all). Hosts selected: Kamal 2, the specific hosts (or
// all hosts, accessory hosts included) restricted to the specific roles'
// hosts when roles were given; Kamal 1, the specific hosts (or all) that
// belong to a specific (or any) role. With primaryOnly the specific hosts
// become the primary host of the specific roles (preferring the configured
// primary role) or the configured primary host.
func (c *Config) Select(hosts, roles []string, primaryOnly bool) (*Selection, error) {
	var specificRoles []*Role
	if len(roles) > 0 {
		names := make([]string, len(c.Roles))
		for i, r := range c.Roles {
			names[i] = r.Name
		}
		for _, n := range filterSpecific(roles, names) {
			specificRoles = append(specificRoles, c.Role(n))
		}
		if len(specificRoles) == 0 {
			return nil, newError(kamalerr.ClassArgument, "No --roles match for %s", strings.Join(roles, ","))
		}
	}
	var specificHosts []string
	if len(hosts) > 0 {
		specificHosts = filterSpecific(hosts, c.AllHosts())
		if len(specificHosts) == 0 {
			return nil, newError(kamalerr.ClassArgument, "No --hosts match for %s", strings.Join(hosts, ","))
		}
	}
	if primaryOnly {
		h, role := c.PrimaryHost(), c.PrimaryRole
		if specificRoles != nil {
			r := c.primaryOrFirst(specificRoles)
			h, role = "", r.Name
			if len(r.Hosts) > 0 {
				h = r.Hosts[0]
			}
		}
		if h == "" {
			// Kamal asks for the hosts matching [nil] here and fails
			// with a TypeError from File.fnmatch; the cause, plainly:
			return nil, newError(kamalerr.ClassArgument, "No --primary host: the %s role has no hosts", role)
		}
		specificHosts = []string{h}
	}

	baseHosts := specificHosts
	if baseHosts == nil {
		baseHosts = c.AllHosts()
	}
	roleSet := specificRoles
	if roleSet == nil {
		for i := range c.Roles {
			roleSet = append(roleSet, &c.Roles[i])
		}
	}
	var selRoles []*Role
	for _, r := range roleSet {
		if slices.ContainsFunc(r.Hosts, func(h string) bool { return slices.Contains(baseHosts, h) }) {
			selRoles = append(selRoles, r)
		}
	}

	var selHosts []string
	if c.Generation == Kamal2 {
		selHosts = baseHosts
		if specificRoles != nil {
			roleHosts := hostsOfRoles(specificRoles)
			selHosts = slices.DeleteFunc(slices.Clone(baseHosts), func(h string) bool { return !slices.Contains(roleHosts, h) })
		}
	} else {
		roleHosts := hostsOfRoles(roleSet)
		selHosts = slices.DeleteFunc(slices.Clone(baseHosts), func(h string) bool { return !slices.Contains(roleHosts, h) })
	}

	primary := ""
	switch {
	case len(specificHosts) > 0:
		primary = specificHosts[0]
	case specificRoles != nil:
		if r := c.primaryOrFirst(specificRoles); len(r.Hosts) > 0 {
			primary = r.Hosts[0]
		}
	default:
		primary = c.PrimaryHost()
	}

	// The effective primary role: among the selected roles on the primary
	// host, the configured primary role, else the first.
	var onPrimary []*Role
	for _, r := range selRoles {
		if slices.Contains(r.Hosts, primary) {
			onPrimary = append(onPrimary, r)
		}
	}
	var primaryRole *Role
	if len(onPrimary) > 0 {
		primaryRole = c.primaryOrFirst(onPrimary)
	}
	inPrimary := func(h string) bool { return primaryRole != nil && slices.Contains(primaryRole.Hosts, h) }

	sel := &Selection{Primary: primary}
	sel.Hosts = stablePartition(selHosts, inPrimary)
	for _, r := range selRoles {
		sel.Roles = append(sel.Roles, r.Name)
	}
	if primaryRole != nil {
		sel.Roles = stablePartition(sel.Roles, func(n string) bool { return n == primaryRole.Name })
	}
	if c.Generation == Kamal2 {
		app := slices.DeleteFunc(c.appHosts(), func(h string) bool { return !slices.Contains(selHosts, h) })
		sel.AppHosts = stablePartition(app, inPrimary)
	} else {
		sel.AppHosts = slices.Clone(sel.Hosts)
	}
	return sel, nil
}

func (c *Config) primaryOrFirst(roles []*Role) *Role {
	for _, r := range roles {
		if r.Name == c.PrimaryRole {
			return r
		}
	}
	return roles[0]
}

func hostsOfRoles(roles []*Role) []string {
	var out []string
	for _, r := range roles {
		out = append(out, r.Hosts...)
	}
	return out
}

// stablePartition returns in with the elements satisfying first moved to
// the front, order otherwise kept (Ruby's stable sort_by 0/1).
func stablePartition(in []string, first func(string) bool) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if first(s) {
			out = append(out, s)
		}
	}
	for _, s := range in {
		if !first(s) {
			out = append(out, s)
		}
	}
	return out
}

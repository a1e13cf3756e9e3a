package config

import (
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"

	"github.com/kamal-go/kamal/runtime/ruby"
)

const hostsConfig = `service: app
image: dhh/app
registry: {username: u, password: p}
servers:
  workers: [1.1.1.3, 1.1.1.4]
  web: [1.1.1.1, 1.1.1.2]
accessories:
  db: {host: 1.1.1.5}
  cache: {roles: [web]}
`

func TestSelect(t *testing.T) {
	type sel = Selection
	tests := []struct {
		name         string
		gen          Generation
		extra        string
		hosts, roles string // comma-separated, as the CLI splits them
		primary      bool
		want         sel
		errMsg       string
	}{
		{name: "kamal2_everything_includes_accessory_hosts", gen: Kamal2,
			want: sel{Hosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"}, Roles: []string{"web", "workers"},
				AppHosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.1"}},
		{name: "kamal1_everything_is_role_hosts", gen: Kamal1,
			want: sel{Hosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Roles: []string{"web", "workers"},
				AppHosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.1"}},
		{name: "one_host", gen: Kamal2, hosts: "1.1.1.3",
			want: sel{Hosts: []string{"1.1.1.3"}, Roles: []string{"workers"}, AppHosts: []string{"1.1.1.3"}, Primary: "1.1.1.3"}},
		{name: "star_wildcard", gen: Kamal2, hosts: "1.1.1.*",
			want: sel{Hosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"}, Roles: []string{"web", "workers"},
				AppHosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.1"}},
		{name: "bracket_wildcard", gen: Kamal2, hosts: "1.1.1.[34]",
			want: sel{Hosts: []string{"1.1.1.3", "1.1.1.4"}, Roles: []string{"workers"}, AppHosts: []string{"1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.3"}},
		{name: "brace_alternation_matches_in_host_order", gen: Kamal2, hosts: "1.1.1.{4;2}",
			want: sel{Hosts: []string{"1.1.1.2", "1.1.1.4"}, Roles: []string{"web", "workers"}, AppHosts: []string{"1.1.1.2", "1.1.1.4"}, Primary: "1.1.1.2"}},
		{name: "patterns_in_pattern_order_primary_role_first", gen: Kamal2, hosts: "1.1.1.3,1.1.1.1",
			want: sel{Hosts: []string{"1.1.1.3", "1.1.1.1"}, Roles: []string{"workers", "web"}, AppHosts: []string{"1.1.1.3", "1.1.1.1"}, Primary: "1.1.1.3"}},
		{name: "duplicate_matches_once", gen: Kamal2, hosts: "1.1.1.1,1.1.1.?",
			want: sel{Hosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"}, Roles: []string{"web", "workers"},
				AppHosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.1"}},
		{name: "no_hosts_match", gen: Kamal2, hosts: "9.9.9.9,8.*", errMsg: "No --hosts match for 9.9.9.9,8.*"},
		{name: "one_role", gen: Kamal2, roles: "workers",
			want: sel{Hosts: []string{"1.1.1.3", "1.1.1.4"}, Roles: []string{"workers"}, AppHosts: []string{"1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.3"}},
		{name: "role_wildcard_prefers_configured_primary_role", gen: Kamal2, roles: "w*",
			want: sel{Hosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Roles: []string{"web", "workers"},
				AppHosts: []string{"1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4"}, Primary: "1.1.1.1"}},
		{name: "no_roles_match", gen: Kamal2, roles: "db", errMsg: "No --roles match for db"},
		{name: "primary", gen: Kamal2, primary: true,
			want: sel{Hosts: []string{"1.1.1.1"}, Roles: []string{"web"}, AppHosts: []string{"1.1.1.1"}, Primary: "1.1.1.1"}},
		{name: "primary_of_given_role", gen: Kamal2, roles: "workers", primary: true,
			want: sel{Hosts: []string{"1.1.1.3"}, Roles: []string{"workers"}, AppHosts: []string{"1.1.1.3"}, Primary: "1.1.1.3"}},
		{name: "primary_overrides_hosts", gen: Kamal2, hosts: "1.1.1.4", primary: true,
			want: sel{Hosts: []string{"1.1.1.1"}, Roles: []string{"web"}, AppHosts: []string{"1.1.1.1"}, Primary: "1.1.1.1"}},
		{name: "kamal2_accessory_host_is_selectable", gen: Kamal2, hosts: "1.1.1.5",
			want: sel{Hosts: []string{"1.1.1.5"}, AppHosts: []string{}, Primary: "1.1.1.5"}},
		{name: "kamal1_accessory_host_is_never_selected", gen: Kamal1, hosts: "1.1.1.5",
			want: sel{Hosts: []string{}, AppHosts: []string{}, Primary: "1.1.1.5"}},
		{name: "kamal2_roles_restrict_hosts", gen: Kamal2, hosts: "1.1.1.5,1.1.1.3,1.1.1.1", roles: "web",
			want: sel{Hosts: []string{"1.1.1.1"}, Roles: []string{"web"}, AppHosts: []string{"1.1.1.1"}, Primary: "1.1.1.5"}},
		{name: "kamal1_roles_restrict_hosts", gen: Kamal1, hosts: "1.1.1.5,1.1.1.3,1.1.1.1", roles: "web",
			want: sel{Hosts: []string{"1.1.1.1"}, Roles: []string{"web"}, AppHosts: []string{"1.1.1.1"}, Primary: "1.1.1.5"}},
		{name: "custom_primary_role_sorts_first", gen: Kamal2, extra: "primary_role: workers\n",
			want: sel{Hosts: []string{"1.1.1.3", "1.1.1.4", "1.1.1.1", "1.1.1.2", "1.1.1.5"}, Roles: []string{"workers", "web"},
				AppHosts: []string{"1.1.1.3", "1.1.1.4", "1.1.1.1", "1.1.1.2"}, Primary: "1.1.1.3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yml := hostsConfig + tt.extra
			if tt.gen == Kamal2 {
				yml += "builder: {arch: amd64}\n"
			}
			c := mustLoad(t, deploy(yml))
			eq(t, c.Generation, tt.gen)
			got, err := c.Select(split(tt.hosts), split(tt.roles), tt.primary)
			if tt.errMsg != "" {
				wantError(t, err, kamalerr.ClassArgument, tt.errMsg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eq(t, norm(*got), norm(tt.want))
		})
	}
}

// A primary-only run with no primary host selects nothing: it is an
// error naming the role, where Kamal fails with a TypeError.
func TestSelectPrimaryWithoutPrimaryHost(t *testing.T) {
	tests := []struct{ name, yml, roles, msg string }{
		{"accessories_only", "service: app\nimage: a\nregistry: {username: u, password: p}\nbuilder: {arch: amd64}\naccessories:\n  db: {image: mysql, host: 1.1.1.5}\n",
			"", "No --primary host: the web role has no hosts"},
		{"empty_role", "service: app\nimage: a\nregistry: {username: u, password: p}\nbuilder: {arch: amd64}\nallow_empty_roles: true\nservers:\n  web: [1.1.1.1]\n  jobs: []\n",
			"jobs", "No --primary host: the jobs role has no hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, deploy(tt.yml))
			_, err := c.Select(nil, split(tt.roles), true)
			wantError(t, err, kamalerr.ClassArgument, tt.msg)
		})
	}
}

// split is the CLI's comma split; ";" stands for a comma inside braces.
func split(s string) []string {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.ReplaceAll(parts[i], ";", ",")
	}
	return parts
}

// norm makes empty and nil slices compare equal.
func norm(s Selection) Selection {
	n := func(x []string) []string {
		if len(x) == 0 {
			return nil
		}
		return x
	}
	return Selection{Hosts: n(s.Hosts), Roles: n(s.Roles), AppHosts: n(s.AppHosts), Primary: s.Primary}
}

func TestFnmatch(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"web-1", "web-1", true},
		{"web-1", "web-10", false},
		{"web-*", "web-10", true},
		{"*", "a/b", true},
		{"*.example.com", "app.example.com", true},
		{"*.example.com", "example.com", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"?.b", "a.b", true},
		{"?.b", "ab.b", false},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[!a-c]x", "bx", false},
		{"[^a-c]x", "dx", true},
		{"[abc", "[abc", true},
		{"{a,b}c", "bc", true},
		{"{a,b}c", "c", false},
		{"{a,{b,c}}d", "cd", true},
		{"{,x}y", "y", true},
		{"x{a,b", "x{a,b", true},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
		{"*", ".hidden", false},
		{".*", ".hidden", true},
		{"1.1.1.*", "1.1.1.10", true},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := ruby.Fnmatch(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Fnmatch(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

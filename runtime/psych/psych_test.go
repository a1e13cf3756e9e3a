package psych

import "testing"

// The expected documents are what Ruby 3.3's Psych prints for the same
// values (Kamal's `kamal config` and its integration test's shapes).
func TestDumpLikePsych(t *testing.T) {
	v := Map{
		{Symbol("roles"), []string{"web"}},
		{Symbol("hosts"), []string{"vm1", "127.0.0.11"}},
		{Symbol("version"), "1234567"},
		{Symbol("repository"), "registry:4443/app"},
		{Symbol("volume_args"), []any{}},
		{Symbol("ssh_options"), Map{{Symbol("user"), "root"}, {Symbol("port"), 22}, {Symbol("keepalive"), true}, {Symbol("log_level"), Symbol("fatal")}}},
		{Symbol("sshkit"), Map{}},
		{Symbol("builder"), Map{{"multiarch", false}, {"args", Map{{"COMMIT_SHA", "abc"}}}, {"cache", Map{{"type", "gha"}}}}},
		{Symbol("logging"), []string{"--log-opt", `max-size="10m"`}},
		{Symbol("healthcheck"), Map{{"path", "/up"}, {"port", 3000}, {"cmd", "wget -qO- http://localhost > /dev/null || exit 1"}}},
		{Symbol("misc"), []any{"yes", "", "a: b", "it's", Map{{"k", "v"}, {"l", 1}}}},
	}
	want := `---
:roles:
- web
:hosts:
- vm1
- 127.0.0.11
:version: '1234567'
:repository: registry:4443/app
:volume_args: []
:ssh_options:
  :user: root
  :port: 22
  :keepalive: true
  :log_level: :fatal
:sshkit: {}
:builder:
  multiarch: false
  args:
    COMMIT_SHA: abc
  cache:
    type: gha
:logging:
- "--log-opt"
- max-size="10m"
:healthcheck:
  path: "/up"
  port: 3000
  cmd: wget -qO- http://localhost > /dev/null || exit 1
:misc:
- 'yes'
- ''
- 'a: b'
- it's
- k: v
  l: 1
`
	if got := Dump(v); got != want {
		t.Errorf("Dump:\n%s\nwant:\n%s", got, want)
	}
}

func TestNestedSequenceIndentation(t *testing.T) {
	v := Map{{Symbol("builder"), Map{{"arch", []string{"amd64", "arm64"}}}}}
	want := "---\n:builder:\n  arch:\n  - amd64\n  - arm64\n"
	if got := Dump(v); got != want {
		t.Errorf("Dump:\n%q\nwant:\n%q", got, want)
	}
}

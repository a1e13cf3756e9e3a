package config

import (
	"slices"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

const xKamalGo = `x-kamal-go:
  ssh:
    connect_timeout: 7
  sshkit:
    max_concurrent_hosts: 4
    command_timeout: 60
`

func TestExtensionsSectionSetsKamalGoSettingsWithoutWarning(t *testing.T) {
	for name, base := range map[string]string{"kamal1": v1Base, "kamal2": v2Base} {
		t.Run(name, func(t *testing.T) {
			c := mustLoad(t, deploy(base+xKamalGo+"ssh:\n  user: app\nsshkit:\n  max_concurrent_starts: 10\n"))
			eq(t, c.SSH.ConnectTimeout, 7)
			eq(t, c.SSH.User, "app")
			eq(t, c.SSHKit.MaxConcurrentHosts, 4)
			eq(t, c.SSHKit.CommandTimeout, 60)
			eq(t, c.SSHKit.MaxConcurrentStarts, 10)
			eq(t, len(c.Warnings), 0)
			eq(t, len(c.LegacyKeys), 0)
			if err := c.HandOffError(); err != nil {
				t.Fatalf("HandOffError: %v", err)
			}
		})
	}
}

func TestExtensionsProgressIsReadFromTheRootOfTheSection(t *testing.T) {
	c := mustLoad(t, deploy(v2Base+"x-kamal-go:\n  progress: condensed\n  sshkit:\n    max_concurrent_hosts: 4\n"))
	eq(t, c.Progress, "condensed")
	eq(t, c.SSHKit.MaxConcurrentHosts, 4)
	eq(t, mustLoad(t, deploy(v2Base)).Progress, "")
}

func TestExtensionsServeCacheBoundDefaultsTo10GiBAndZeroTurnsTheCacheOff(t *testing.T) {
	eq(t, mustLoad(t, deploy(v2Base)).Serve.CacheMaxMB, DefaultCacheMaxMB)
	eq(t, DefaultCacheMaxMB, 10240)
	eq(t, mustLoad(t, deploy(v2Base+"x-kamal-go:\n  serve:\n    cache_max_mb: 0\n")).Serve.CacheMaxMB, 0)
	eq(t, mustLoad(t, deploy(v1Base+"x-kamal-go:\n  serve:\n    cache_max_mb: 512\n")).Serve.CacheMaxMB, 512)
}

func TestExtensionsServeBoundsHaveDefaultsAndCanBeSet(t *testing.T) {
	c := mustLoad(t, deploy(v2Base))
	eq(t, c.Serve, Serve{CacheMaxMB: DefaultCacheMaxMB, MaxHosts: DefaultServeMaxHosts, MaxMBInFlight: DefaultServeMaxMBInFlight})
	c = mustLoad(t, deploy(v2Base+"x-kamal-go:\n  serve:\n    max_hosts: 1\n    max_mb_in_flight: 8\n"))
	eq(t, c.Serve, Serve{CacheMaxMB: DefaultCacheMaxMB, MaxHosts: 1, MaxMBInFlight: 8})
	if err := c.HandOffError(); err != nil {
		t.Fatalf("HandOffError: %v", err)
	}
}

func TestExtensionsOldSpellingsWorkWithOneWarningEach(t *testing.T) {
	c := mustLoad(t, deploy(v2Base+"ssh:\n  connect_timeout: 3\nsshkit:\n  command_timeout: 9\n"))
	eq(t, c.SSH.ConnectTimeout, 3)
	eq(t, c.SSHKit.CommandTimeout, 9)
	eq(t, c.LegacyKeys, []string{"ssh/connect_timeout", "sshkit/command_timeout"})
	eq(t, c.Warnings, []string{
		"WARN ssh/connect_timeout is kamal-go's own setting, which Kamal refuses as an unknown key: move it to x-kamal-go/ssh/connect_timeout",
		"WARN sshkit/command_timeout is kamal-go's own setting, which Kamal refuses as an unknown key: move it to x-kamal-go/sshkit/command_timeout",
	})
}

func TestExtensionsBadInput(t *testing.T) {
	const cfg = kamalerr.ClassConfiguration
	tests := []struct {
		name, yml, msg string
	}{
		{"section_not_a_hash", "x-kamal-go: 5\n", "x-kamal-go: should be a hash"},
		{"unknown_section", "x-kamal-go:\n  builder: {}\n", "x-kamal-go: unknown key: builder"},
		{"unknown_key", "x-kamal-go:\n  ssh: {connect_timeout: 2, keepalive: 3}\n", "x-kamal-go/ssh: unknown key: keepalive"},
		{"wrong_type", "x-kamal-go:\n  sshkit: {max_concurrent_hosts: many}\n", "x-kamal-go/sshkit/max_concurrent_hosts: should be an integer"},
		{"not_positive", "x-kamal-go:\n  ssh: {connect_timeout: 0}\n", "x-kamal-go/ssh/connect_timeout: should be a positive number of seconds"},
		{"old_spelling_wrong_type", "sshkit:\n  max_concurrent_hosts: 1.5\n", "sshkit/max_concurrent_hosts: should be an integer"},
		{"old_spelling_not_positive", "ssh:\n  connect_timeout: -1\n", "ssh/connect_timeout: should be a positive number of seconds"},
		{"cache_negative", "x-kamal-go:\n  serve: {cache_max_mb: -1}\n", "x-kamal-go/serve/cache_max_mb: should be 0 (no cache) or a number of megabytes"},
		{"cache_wrong_type", "x-kamal-go:\n  serve: {cache_max_mb: 1G}\n", "x-kamal-go/serve/cache_max_mb: should be an integer"},
		{"serve_unknown_key", "x-kamal-go:\n  serve: {max_peers: 2}\n", "x-kamal-go/serve: unknown key: max_peers"},
		{"serve_not_positive", "x-kamal-go:\n  serve: {max_hosts: 0}\n", "x-kamal-go/serve/max_hosts: should be a positive integer"},
		{"serve_wrong_type", "x-kamal-go:\n  serve: {max_mb_in_flight: lots}\n", "x-kamal-go/serve/max_mb_in_flight: should be an integer"},
		{"progress_unknown", "x-kamal-go:\n  progress: fancy\n", "x-kamal-go/progress: should be plain or condensed"},
		{"both_spellings", "ssh:\n  connect_timeout: 2\n" + xKamalGo, "ssh/connect_timeout: also set as x-kamal-go/ssh/connect_timeout: keep only that one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(v2Base + tt.yml).load(t)
			wantError(t, err, cfg, tt.msg)
		})
	}
}

// Kamal's own rules (the validators without kamal-go's additions), for
// Kamal 1.9.2 and 2.12.0: an x-kamal-go section passes, the old spellings
// are Kamal's unknown keys.
func TestKamalRulesAcceptTheExtensionSectionAndRefuseOldSpellings(t *testing.T) {
	for _, gen := range []Generation{Kamal1, Kamal2} {
		base := map[Generation]string{Kamal1: v1Base, Kamal2: v2Base}[gen]
		check := func(yml string) error {
			raw, err := parseYAML("deploy.yml", []byte(base+yml))
			if err != nil {
				t.Fatal(err)
			}
			if err := validateRoot(raw, gen); err != nil {
				return err
			}
			return validateSections(raw, gen)
		}
		if err := check(xKamalGo); err != nil {
			t.Errorf("generation %d: Kamal's rules refuse x-kamal-go: %v", gen, err)
		}
		for _, tt := range []struct{ yml, msg string }{
			{"ssh:\n  connect_timeout: 2\n", "ssh: unknown key: connect_timeout"},
			{"sshkit:\n  max_concurrent_hosts: 2\n", "sshkit: unknown key: max_concurrent_hosts"},
			{"sshkit:\n  command_timeout: 2\n  max_concurrent_hosts: 2\n", "sshkit: unknown keys: command_timeout, max_concurrent_hosts"},
		} {
			wantError(t, check(tt.yml), kamalerr.ClassConfiguration, tt.msg)
		}
	}
}

func TestHandOffErrorNamesTheKeyTheAppsKamalWouldRefuse(t *testing.T) {
	old := "sshkit:\n  max_concurrent_hosts: 2\n"
	tests := []struct {
		name    string
		fx      fixture
		wantErr string
	}{
		{"kamal2", deploy(v2Base + old),
			"sshkit: unknown key: max_concurrent_hosts (the app's Kamal 2.12.0 would refuse sshkit/max_concurrent_hosts, kamal-go's own setting: move it to x-kamal-go/sshkit/max_concurrent_hosts)"},
		{"kamal19", deploy(v1Base+old).with("Gemfile.lock", lockWith("1.9.2")),
			"sshkit: unknown key: max_concurrent_hosts (the app's Kamal 1.9.2 would refuse sshkit/max_concurrent_hosts, kamal-go's own setting: move it to x-kamal-go/sshkit/max_concurrent_hosts)"},
		{"kamal15_validates_nothing", deploy(v1Base+old).with("Gemfile.lock", lockWith("1.5.2")), ""},
		{"extension_section", deploy(v2Base + xKamalGo), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustLoad(t, tt.fx)
			err := c.HandOffError()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("HandOffError: %v", err)
				}
				return
			}
			wantError(t, err, kamalerr.ClassConfiguration, tt.wantErr)
		})
	}
}

func TestWithoutLegacyLeavesTheDocumentAlone(t *testing.T) {
	raw, err := parseYAML("deploy.yml", []byte(v2Base+"ssh:\n  user: a\n  connect_timeout: 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := withoutLegacy(raw)
	eq(t, get(raw, "ssh").(*mapping).keys, []string{"user", "connect_timeout"})
	eq(t, get(out, "ssh").(*mapping).keys, []string{"user"})
	if !slices.Equal(raw.keys, out.keys) {
		t.Fatalf("root keys changed: %v -> %v", raw.keys, out.keys)
	}
}

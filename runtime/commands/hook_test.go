package commands

import (
	"slices"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

func TestHookRunV1ExportsTagsLikeKamal152(t *testing.T) {
	d := HookDetails{
		RecordedAt: "2026-11-25T17:37:52Z",
		Performer:  "root",
		Version:    seedVersion,
		Hosts:      []string{"server1", "server2", "server3"},
		Command:    "build",
	}
	cmd := HookRun(seedV1(), "pre-connect", d)
	// kamal-1.5.2 build-push-v.txt
	const debug = `( export KAMAL_RECORDED_AT="2026-11-25T17:37:52Z" KAMAL_PERFORMER="root" KAMAL_VERSION="24b6e0d8d17159f4bc57db8ced6f87bc2f6e2127" KAMAL_SERVICE_VERSION="app@24b6e0d" KAMAL_HOSTS="server1,server2,server3" KAMAL_COMMAND="build" ; /usr/bin/env .kamal/hooks/pre-connect )`
	assertCommand(t, cmd, "/usr/bin/env .kamal/hooks/pre-connect", debug)
	if cmd.Debug() != debug {
		t.Errorf("Debug() = %s", cmd.Debug())
	}
	if cmd.Name() != ".kamal/hooks/pre-connect" {
		t.Errorf("Name() = %q", cmd.Name())
	}
}

func TestHookRunV2IsBare(t *testing.T) {
	cmd := HookRun(rigV2(), "pre-build", HookDetails{Version: rigVersion, Command: "build"})
	// kamal-2.12.0 build-push-v.txt: Running and Command lines are equal.
	const want = "/usr/bin/env .kamal/hooks/pre-build"
	assertCommand(t, cmd, want, want)
	if cmd.Debug() != want {
		t.Errorf("Debug() = %s", cmd.Debug())
	}
}

func TestHookPath(t *testing.T) {
	tests := []struct{ hooksPath, want string }{
		{"", ".kamal/hooks/pre-build"},
		{"bin/hooks/", "bin/hooks/pre-build"},
		{"/abs/hooks", "/abs/hooks/pre-build"},
		{"./hooks", "./hooks/pre-build"},
	}
	for _, tt := range tests {
		cfg := rigV2()
		cfg.HooksPath = tt.hooksPath
		if got := HookPath(cfg, "pre-build"); got != tt.want {
			t.Errorf("HookPath(%q) = %q, want %q", tt.hooksPath, got, tt.want)
		}
		if got := HookCommand(cfg, "pre-build").Logged(); got != "/usr/bin/env "+tt.want {
			t.Errorf("HookCommand(%q) = %q", tt.hooksPath, got)
		}
	}
}

func keys(env []shell.EnvVar) []string {
	var out []string
	for _, e := range env {
		out = append(out, e.Key+"="+e.Value)
	}
	return out
}

func TestHookEnvOrder(t *testing.T) {
	full := HookDetails{
		RecordedAt: "T", Performer: "P", Version: "abc_uncommitted_0123456789abcdef",
		Hosts: []string{"h1", "h2"}, Command: "deploy", Subcommand: "push",
		Roles: []string{"web"}, Lock: "true", Runtime: "12",
		Secrets: []shell.EnvVar{{Key: "SECRET", Value: "s"}},
	}
	tests := []struct {
		name string
		cfg  *config.Config
		d    HookDetails
		want []string
	}{
		{
			name: "Kamal 1 with destination, no KAMAL_SERVICE, no roles/lock/secrets",
			cfg:  &config.Config{Generation: config.Kamal1, Service: "app", Destination: "staging"},
			d:    full,
			want: []string{"KAMAL_RECORDED_AT=T", "KAMAL_PERFORMER=P", "KAMAL_DESTINATION=staging", "KAMAL_VERSION=abc_uncommitted_0123456789abcdef", "KAMAL_SERVICE_VERSION=app@abc_uncommitted_0123456789abcdef", "KAMAL_HOSTS=h1,h2", "KAMAL_COMMAND=deploy", "KAMAL_SUBCOMMAND=push", "KAMAL_RUNTIME=12"},
		},
		{
			name: "Kamal 2 full",
			cfg:  &config.Config{Generation: config.Kamal2, Service: "app", Destination: "staging"},
			d:    full,
			want: []string{"KAMAL_RECORDED_AT=T", "KAMAL_PERFORMER=P", "KAMAL_DESTINATION=staging", "KAMAL_VERSION=abc_uncommitted_0123456789abcdef", "KAMAL_SERVICE_VERSION=app@abc_uncommitted_0123456789abcdef", "KAMAL_SERVICE=app", "KAMAL_HOSTS=h1,h2", "KAMAL_ROLES=web", "KAMAL_LOCK=true", "KAMAL_COMMAND=deploy", "KAMAL_SUBCOMMAND=push", "KAMAL_RUNTIME=12", "SECRET=s"},
		},
		{
			name: "Kamal 2 minimal",
			cfg:  rigV2(),
			d:    HookDetails{RecordedAt: "T", Performer: "P", Version: rigVersion, Hosts: []string{"server1"}, Command: "build", Lock: "false"},
			want: []string{"KAMAL_RECORDED_AT=T", "KAMAL_PERFORMER=P", "KAMAL_VERSION=" + rigVersion, "KAMAL_SERVICE_VERSION=app@28b352e", "KAMAL_SERVICE=app", "KAMAL_HOSTS=server1", "KAMAL_LOCK=false", "KAMAL_COMMAND=build"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(HookEnv(tt.cfg, tt.d)); !slices.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

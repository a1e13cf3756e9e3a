package commands

import (
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
)

func configBuilderAmd64() config.Builder { return config.Builder{Arches: []string{"amd64"}} }

func TestLogin(t *testing.T) {
	tests := []struct {
		name           string
		cfg            *config.Config
		user, password string
		logged         string
		executed       string
	}{
		{
			// kamal-2.12.0 build-push-v.txt
			name: "Kamal 2 with server", cfg: rigV2(), user: "rig", password: "secret",
			logged:   "docker login 127.0.0.1:5556 -u [REDACTED] -p [REDACTED]",
			executed: `docker login 127.0.0.1:5556 -u "rig" --password-stdin`,
		},
		{
			name: "Docker Hub omits the server", cfg: v2Config(configBuilderAmd64()), user: "dhh", password: "more-secret'\"",
			logged:   "docker login -u [REDACTED] -p [REDACTED]",
			executed: `docker login -u "dhh" --password-stdin`,
		},
		{
			name: "Kamal 2 keeps non-ASCII raw and escapes dollars", cfg: rigV2(), user: "jürgen", password: "pa$$word${X}",
			logged:   "docker login 127.0.0.1:5556 -u [REDACTED] -p [REDACTED]",
			executed: `docker login 127.0.0.1:5556 -u "j"ü"rgen" --password-stdin`,
		},
		{
			name: "Kamal 1 dumps non-ASCII as \\u", cfg: seedV1(), user: "jürgen", password: "more-secret'\"",
			logged:   "docker login 127.0.0.1:5000 -u [REDACTED] -p [REDACTED]",
			executed: `docker login 127.0.0.1:5000 -u "j\u00FCrgen" --password-stdin`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := Login(tt.cfg, tt.user, tt.password)
			assertCommand(t, cmd, tt.logged, tt.executed)
			if cmd.Debug() != tt.logged {
				t.Errorf("Debug() = %s", cmd.Debug())
			}
			// The password travels on standard input, raw (no shell quoting).
			if cmd.Stdin != tt.password {
				t.Errorf("Stdin = %q, want the password %q", cmd.Stdin, tt.password)
			}
			if strings.Contains(cmd.Executed(), tt.password) {
				t.Errorf("the password is in the arguments: %s", cmd.Executed())
			}
			if got := cmd.SensitiveWords(); len(got) != 2 || got[1] != tt.password {
				t.Errorf("SensitiveWords() = %q", got)
			}
		})
	}
}

func TestLoginSkippedForLocalRegistry(t *testing.T) {
	cfg := v2Config(configBuilderAmd64())
	cfg.Registry = config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000}
	assertEmpty(t, Login(cfg, "", ""))
}

func TestLocalRegistry(t *testing.T) {
	cfg := v2Config(configBuilderAmd64())
	assertEmpty(t, LocalRegistryStart(cfg))
	assertEmpty(t, LocalRegistryRemove(cfg))
	cfg.Registry = config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000}
	const start = "docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:5000:5000 --name kamal-docker-registry registry:3"
	assertCommand(t, LocalRegistryStart(cfg), start, start)
	const remove = "docker stop kamal-docker-registry && docker rm kamal-docker-registry"
	assertCommand(t, LocalRegistryRemove(cfg), remove, remove)
}

func TestLogout(t *testing.T) {
	assertCommand(t, Logout(rigV2()), "docker logout 127.0.0.1:5556", "docker logout 127.0.0.1:5556")
	assertCommand(t, Logout(seedV1()), "docker logout 127.0.0.1:5000", "docker logout 127.0.0.1:5000")
	assertCommand(t, Logout(v2Config(configBuilderAmd64())), "docker logout", "docker logout")
	cfg := v2Config(configBuilderAmd64())
	cfg.Registry = config.Registry{Server: "localhost:5000", Local: true, LocalPort: 5000}
	assertEmpty(t, Logout(cfg))
}

package runstate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
)

// The ssh and sshkit sections reach the transport; what cannot be
// honoured is a configuration error naming the key.
func TestSSHSectionsReachTheTransport(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	for _, tc := range []struct {
		name, ssh, err string
	}{
		{name: "unset user and port stay unset for ssh_config", ssh: "ssh:\n  keys: [/k]\n"},
		{name: "proxy_command", ssh: "ssh:\n  proxy_command: ssh -W %h:%p bastion\n"},
		{name: "proxy and proxy_command", ssh: "ssh:\n  proxy: bastion\n  proxy_command: ssh -W %h:%p bastion\n", err: "ssh: proxy and proxy_command are both set: keep one"},
		{name: "unknown log_level", ssh: "ssh:\n  log_level: chatty\n", err: `ssh/log_level: unknown level "chatty" (expected debug, info, warn, error or fatal)`},
		{name: "missing ssh.config file", ssh: "ssh:\n  config: /nonexistent/ssh_config\n", err: "ssh config /nonexistent/ssh_config: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := appDir(t, "service: app\nimage: app\nservers:\n  - server1\nregistry:\n  server: 127.0.0.1:5556\n  username: kamal\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n"+
				"builder:\n  arch: amd64\n"+tc.ssh+"sshkit:\n  pool_idle_timeout: 60\n")
			cfg, err := config.Load(config.Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			s, err := sshConfig(cfg, log.New(&out, false), &out)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err || kamalerr.ClassOf(err) != kamalerr.ClassConfiguration {
					t.Fatalf("err %v (class %q), want %q", err, kamalerr.ClassOf(err), tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.User != "" || s.Port != 0 {
				t.Errorf("user %q port %d: deploy.yml set neither", s.User, s.Port)
			}
			if s.PoolIdleTimeout != 60*time.Second {
				t.Errorf("pool idle timeout %v", s.PoolIdleTimeout)
			}
			if s.OpenSSH == nil {
				t.Error("ssh_config not read")
			}
			if s.ProxyCommand != cfg.SSH.ProxyCommand {
				t.Errorf("proxy command %q", s.ProxyCommand)
			}
		})
	}
}

// appDir is an app whose config/deploy.yml is deploy, with the registry
// password in .kamal/secrets.
func appDir(t *testing.T, deploy string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"config/deploy.yml": deploy, ".kamal/secrets": "KAMAL_REGISTRY_PASSWORD=s3cret-pw\n"} {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

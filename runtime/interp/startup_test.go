package interp

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"

	"github.com/kamal-go/kamal/runtime/log"
)

// writeApp writes config/deploy.yml (and nothing else) in a new directory.
func writeApp(t *testing.T, deploy string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "config"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fakeDocker puts a docker first on PATH that records every call in the
// returned file.
func fakeDocker(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	script := "#!/bin/sh\necho \"docker $*\" >>" + calls + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

// `kamal build details --dry-run` and `kamal build help` call no docker,
// even for a hybrid (local + remote) builder, whose real runs ask the local
// docker for its architecture.
func TestDryRunDetailsAndHelpCallNoDocker(t *testing.T) {
	dir := writeApp(t, `service: app
image: app
servers:
  - 127.0.0.1
registry:
  server: 127.0.0.1:5555
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch:
    - amd64
    - arm64
  remote: ssh://root@127.0.0.1
`)
	calls := fakeDocker(t)
	for _, sub := range []string{"details", "help"} {
		var out bytes.Buffer
		logger := log.New(&out, false)
		env, err := runstate.New(runstate.Options{Dir: dir, Log: logger,
			Flags: runstate.Flags{DryRun: true, Command: "build", Subcommand: sub}})
		if err != nil {
			t.Fatal(err)
		}
		if sub == "details" {
			in := New(env)
			if err := in.LoadStock(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := in.Call(context.Background(), sub, nil); err != nil {
				t.Fatalf("details: %v\n%s", err, out.String())
			}
		}
		env.Close()
	}
	if data, err := os.ReadFile(calls); err == nil {
		t.Errorf("docker was called:\n%s", data)
	}
}

// A refused connection is retried, and each retry is a DEBUG line of the
// Kamal log (shown with -v).
func TestSSHRetriesAreLoggedAtDebug(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String() // refused once closed
	l.Close()
	dir := writeApp(t, `service: app
image: app
servers:
  - `+host+`
registry:
  username: kamal
  password: secret
ssh:
  keys_only: true
sshkit:
  max_concurrent_starts: 1
`)
	t.Setenv("HOME", t.TempDir())
	var out bytes.Buffer
	logger := log.New(&out, false)
	logger.SetThreshold(log.Debug)
	env, err := runstate.New(runstate.Options{Dir: dir, Log: logger,
		Flags: runstate.Flags{Version: "v1", Command: "build", Subcommand: "pull"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	in := New(env)
	if err := in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.Call(context.Background(), "pull", nil); err == nil {
		t.Fatal("pull succeeded against a closed port")
	}
	var retries int
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, " DEBUG ") && strings.Contains(line, "Retrying ssh connection for "+host) {
			retries++
		}
	}
	if retries == 0 {
		t.Errorf("no DEBUG retry line in the log:\n%s", out.String())
	}
}

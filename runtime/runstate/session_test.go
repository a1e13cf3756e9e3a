package runstate

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// noHosts is a remote transport for runs that must not connect.
type noHosts struct{}

func (noHosts) Run(context.Context, string, executor.Request) (int, error) { return 1, nil }

const kamal1Deploy = "service: app\nimage: app\nservers:\n  - server1\nregistry:\n  server: 127.0.0.1:5556\n  username: kamal\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n" +
	"builder:\n  multiarch: false\n"

// Kamal 1 loads .env into its process environment at start: the run's
// version, its local commands and its SSH agent see it, the real
// environment wins, and this process's own environment is left alone (a
// second run in the same process, a test, sees no trace of it).
func TestKamal1DotEnvReachesTheRunNotTheProcess(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("REAL_WINS", "real")
	for _, k := range []string{"VERSION", "FROM_DOTENV"} {
		t.Setenv(k, "") // restored after the test
		os.Unsetenv(k)
	}
	dir := appDir(t, kamal1Deploy)
	if err := os.WriteFile(dir+"/.env", []byte("VERSION=from-dotenv\nFROM_DOTENV=yes\nREAL_WINS=dotenv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	env, err := New(Options{Dir: dir, Log: log.New(&out, false), Remote: noHosts{}, Stderr: &stderr,
		Flags: Flags{Command: "build", Subcommand: "push"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if env.Version != "from-dotenv" {
		t.Errorf("version %q, want .env's VERSION", env.Version)
	}
	for _, k := range []string{"VERSION", "FROM_DOTENV"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Errorf("New set %s=%q in the process environment", k, v)
		}
	}
	res, err := env.Runner.Run(context.Background(), "", shell.New("printenv", "FROM_DOTENV", "REAL_WINS"), sshkit.Options{Capture: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(res.Stdout); strings.Join(got, " ") != "yes real" {
		t.Errorf("a local command sees %q, want .env's FROM_DOTENV and the real REAL_WINS", got)
	}
}

// Kamal's warnings go to the writer the caller gives, never to the
// process's standard error.
func TestWarningsGoToTheInjectedStderr(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	// sshkit at the top level is kamal-go's own setting outside x-kamal-go:
	// loaded, with a warning.
	dir := appDir(t, kamal1Deploy+"sshkit:\n  max_concurrent_hosts: 1\n")
	var out, stderr bytes.Buffer
	env, err := New(Options{Dir: dir, Log: log.New(&out, false), Remote: noHosts{}, Stderr: &stderr,
		Flags: Flags{Command: "build", Subcommand: "details"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	if len(env.Config.Warnings) == 0 {
		t.Fatal("the config has no warning to print")
	}
	if want := strings.Join(env.Config.Warnings, "\n") + "\n"; stderr.String() != want {
		t.Errorf("stderr %q, want the config's warnings %q", stderr.String(), want)
	}
}

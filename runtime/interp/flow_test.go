package interp

import (
	"bytes"
	"context"
	"flag"
	"github.com/kamal-go/kamal/runtime/runstate"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/fakeworld"
	"github.com/kamal-go/kamal/runtime/log"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// fakeHosts is the fake world (runtime/fakeworld) the stock flows are
// pinned against, line by line, without a daemon; rule is its answer.
type (
	fakeHosts = fakeworld.World
	rule      = fakeworld.Rule
)

// newWorld is a fake world answering by rules that runs the facts the
// flows read silently (git queries, whoami) for real, in the test app.
func newWorld(rules ...rule) *fakeHosts {
	w := fakeworld.New(rules...)
	w.Queries = &executor.Local{}
	return w
}

// app copies testdata/NAME into a fresh git repository.
func app(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	if err := exec.Command("cp", "-a", filepath.Join("testdata", name), dir).Run(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, ".kamal", "secrets"), 0o600)
	t.Setenv("GIT_CONFIG_GLOBAL", "/dev/null")
	for _, args := range [][]string{{"init", "-q"}, {"config", "user.name", "Tester"}, {"config", "user.email", "tester@example.com"}, {"add", "-A"}, {"commit", "-qm", "app"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	os.Chmod(filepath.Join(dir, ".kamal", "secrets"), 0o600)
	return dir
}

var (
	idRE       = regexp.MustCompile(`\[[0-9a-f]{8}\]`)
	secondsRE  = regexp.MustCompile(`Finished in \d+\.\d{3} seconds`)
	versionRE  = regexp.MustCompile(`\b[0-9a-f]{40}\b`)
	timeRE     = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)
	lockBodyRE = regexp.MustCompile(`(?s)echo "[A-Za-z0-9+/=\n]+" >`)
	cloneRE    = regexp.MustCompile(`kamal-clones/app-[0-9a-f]{13}`)
	abbrevRE   = regexp.MustCompile(`@[0-9a-f]{7}"`)
)

// normalise replaces what changes from run to run.
func normalise(s, dir string) string {
	s = idRE.ReplaceAllString(s, "[ID]")
	s = secondsRE.ReplaceAllString(s, "Finished in X seconds")
	s = versionRE.ReplaceAllString(s, "VERSION")
	s = abbrevRE.ReplaceAllString(s, "@ABBREV\"")
	s = timeRE.ReplaceAllString(s, "TIME")
	s = lockBodyRE.ReplaceAllString(s, `echo "LOCK" >`)
	s = cloneRE.ReplaceAllString(s, "kamal-clones/app-HASH")
	s = strings.ReplaceAll(s, dir, "APP")
	s = strings.ReplaceAll(s, os.TempDir(), "TMP")
	return s
}

func run(t *testing.T, dir, sub string, verbose bool, rules ...rule) (string, *fakeHosts, error) {
	t.Helper()
	fake := newWorld(rules...)
	out, err := runWith(t, dir, sub, verbose, fake)
	return out, fake, err
}

// runWith runs subcommand sub of the stock script in dir with transport
// standing in for both this machine and the servers, and returns the
// normalised log. The environment is pinned so the log is the same
// everywhere: no $USER, a known registry password.
func runWith(t *testing.T, dir, sub string, verbose bool, transport executor.Transport) (string, error) {
	t.Helper()
	return callFlow(t, dir, sub, verbose, nil, transport)
}

// callFlow is runWith with keyword arguments for the subcommand (its
// --options).
func callFlow(t *testing.T, dir, sub string, verbose bool, kwargs []starlark.Tuple, transport executor.Transport) (string, error) {
	t.Helper()
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "s3cret-pw")
	t.Setenv("USER", "")
	t.Setenv("LOGNAME", "")
	t.Setenv("USERNAME", "")
	var out bytes.Buffer
	logger := log.New(&out, false)
	if verbose {
		logger.SetThreshold(log.Debug)
	}
	env, err := runstate.New(runstate.Options{
		Dir: dir, Log: logger, Local: transport, Remote: transport,
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Command: "build", Subcommand: sub},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := New(env)
	if err := in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	err = in.Call(context.Background(), sub, kwargs)
	return normalise(out.String(), dir), err
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update to accept)\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestStockFlows(t *testing.T) {
	tests := []struct {
		app, sub string
		verbose  bool
	}{
		{"kamal1", "push", false},
		{"kamal1", "push", true},
		{"kamal1", "pull", false},
		{"kamal1", "deliver", false},
		{"kamal2", "push", false},
		{"kamal2", "pull", false},
		{"kamal2", "details", false},
	}
	for _, tt := range tests {
		name := tt.app + "-" + tt.sub
		if tt.verbose {
			name += "-v"
		}
		t.Run(name, func(t *testing.T) {
			dir := app(t, tt.app)
			got, _, err := run(t, dir, tt.sub, tt.verbose,
				rule{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"},
				rule{Match: "--recurse-submodules", Status: 128, Stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"},
				rule{Match: "RegistryConfig.Mirrors", Status: 1, Stderr: "template: :1:2: executing \"\" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range\n"},
				rule{Match: "docker context ls", Stdout: "NAME DESCRIPTION\ndefault *\n"},
			)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(got, "s3cret-pw") {
				t.Fatalf("secret in output:\n%s", got)
			}
			golden(t, name, got)
		})
	}
}

func revision(t *testing.T, dir string) string {
	c := exec.Command("git", "rev-parse", "HEAD")
	c.Dir = dir
	out, err := c.Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

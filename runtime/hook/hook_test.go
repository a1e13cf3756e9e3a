package hook

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

const (
	kamal1 = "service: app\nimage: app\nservers:\n  - server1\nregistry:\n  username: kamal\n  password: pw\nbuilder:\n  multiarch: false\n"
	kamal2 = "service: app\nimage: app\nservers:\n  - server1\nregistry:\n  server: localhost:5000\nbuilder:\n  arch: amd64\n"
)

// hooks is a run of the app configured by deploy, whose hooks are the
// given scripts (name to body), logging into the returned buffer.
func hooks(t *testing.T, deploy string, scripts map[string]string) (*Hooks, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	os.MkdirAll(filepath.Join(dir, ".kamal/hooks"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "config/deploy.yml"), []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, body := range scripts {
		if err := os.WriteFile(filepath.Join(dir, ".kamal/hooks", name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(config.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	logger := log.New(&out, false)
	return &Hooks{
		Config: cfg, Dir: dir, Log: logger,
		Runner:  &sshkit.Runner{Log: logger, Local: &executor.Local{}},
		Version: "abc123", Hosts: []string{"server1", "server2"}, Command: "build", Subcommand: "push",
		Performer: func(context.Context) string { return "ann@example.com" },
		Locked:    func() bool { return true },
	}, &out
}

func read(t *testing.T, h *Hooks, file string) string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(h.Dir, file))
	return string(b)
}

func TestAMissingHookDoesNotRun(t *testing.T) {
	h, out := hooks(t, kamal2, nil)
	ran, err := h.Run(context.Background(), "pre-build")
	if ran || err != nil || out.Len() > 0 {
		t.Errorf("ran %v, err %v, output %q; want nothing", ran, err, out)
	}
}

func TestSkippedHooksDoNotRun(t *testing.T) {
	h, _ := hooks(t, kamal2, map[string]string{"pre-build": "touch ran\n"})
	h.Skip = true
	if ran, err := h.Run(context.Background(), "pre-build"); ran || err != nil {
		t.Errorf("ran %v, err %v; want a skipped hook", ran, err)
	}
	if _, err := os.Stat(filepath.Join(h.Dir, "ran")); err == nil {
		t.Error("the hook ran with Skip")
	}
}

func TestPreConnectRunsOncePerRun(t *testing.T) {
	h, _ := hooks(t, kamal2, map[string]string{"pre-connect": "echo x >> runs\n", "pre-build": "echo y >> runs\n"})
	for i, want := range []bool{true, false} {
		if ran, err := h.Run(context.Background(), "pre-connect"); ran != want || err != nil {
			t.Errorf("pre-connect run %d: ran %v, err %v; want %v", i+1, ran, err, want)
		}
	}
	for range 2 {
		h.Run(context.Background(), "pre-build")
	}
	if got := read(t, h, "runs"); got != "x\ny\ny\n" {
		t.Errorf("runs = %q, want pre-connect once and pre-build twice", got)
	}
}

func TestKamal2HooksSeeTheRunInTheirEnvironment(t *testing.T) {
	h, out := hooks(t, kamal2, map[string]string{"pre-build": "env | grep ^KAMAL_ | sort > env\n"})
	h.Roles = []string{"web"}
	if ran, err := h.Run(context.Background(), "pre-build"); !ran || err != nil {
		t.Fatalf("ran %v, err %v", ran, err)
	}
	env := read(t, h, "env")
	for _, want := range []string{"KAMAL_COMMAND=build", "KAMAL_SUBCOMMAND=push", "KAMAL_HOSTS=server1,server2", "KAMAL_ROLES=web",
		"KAMAL_LOCK=true", "KAMAL_PERFORMER=ann@example.com", "KAMAL_VERSION=abc123", "KAMAL_SERVICE=app", "KAMAL_SERVICE_VERSION=app@abc123"} {
		if !strings.Contains(env, want+"\n") {
			t.Errorf("the hook's environment lacks %s:\n%s", want, env)
		}
	}
	if strings.Contains(out.String(), "Running the pre-build hook...") {
		t.Errorf("a Kamal 2 hook printed Kamal 1's line:\n%s", out)
	}
	h.Roles, h.Locked = nil, func() bool { return false }
	h.Run(context.Background(), "pre-build")
	env = read(t, h, "env")
	if strings.Contains(env, "KAMAL_ROLES") || !strings.Contains(env, "KAMAL_LOCK=false\n") {
		t.Errorf("without -r and the lock, the environment is:\n%s", env)
	}
}

func TestKamal1HooksSayTheyRunAndGetNoSubcommand(t *testing.T) {
	h, out := hooks(t, kamal1, map[string]string{"pre-build": "env | grep ^KAMAL_ | sort > env\n"})
	if ran, err := h.Run(context.Background(), "pre-build"); !ran || err != nil {
		t.Fatalf("ran %v, err %v", ran, err)
	}
	if !strings.HasPrefix(out.String(), "Running the pre-build hook...\n") {
		t.Errorf("output:\n%s", out)
	}
	env := read(t, h, "env")
	if !strings.Contains(env, "KAMAL_COMMAND=build\n") || strings.Contains(env, "KAMAL_SUBCOMMAND") || strings.Contains(env, "KAMAL_LOCK") {
		t.Errorf("a Kamal 1 hook's environment:\n%s", env)
	}
}

func TestAFailingHookIsAHookError(t *testing.T) {
	h, _ := hooks(t, kamal2, map[string]string{"pre-build": "echo no >&2; exit 1\n"})
	ran, err := h.Run(context.Background(), "pre-build")
	if ran || kamalerr.ClassOf(err) != "Kamal::Cli::HookError" || !strings.HasPrefix(err.Error(), "Hook `pre-build` failed:\n") {
		t.Fatalf("ran %v, err %v (%s)", ran, err, kamalerr.ClassOf(err))
	}
}

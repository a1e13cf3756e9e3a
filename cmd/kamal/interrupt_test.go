package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// kamal2Config is a Kamal 2 app whose registry password is a secret.
const kamal2Config = `service: app
image: app
servers:
  - server1
registry:
  server: registry.invalid:5000
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  arch: amd64
`

// Every wait while the config or a script loads ends at the first SIGINT
// or SIGTERM with exit 128+signal, a line naming what the user wrote or
// ran, and no process of a command left. kamal runs as a real process
// (the test binary as "kamal", testscript's PATH).
func TestInterruptWhileLoading(t *testing.T) {
	// slow writes its shell's pid to the file "started", then waits on a
	// child in the same process group.
	const slow = `echo $$ > started; sleep 60 & wait`
	tests := []struct {
		name  string
		files map[string]string
		args  []string
		sig   syscall.Signal
		want  string
		ready string // output that must appear before the signal
	}{
		{
			name:  "secrets_command_sigint",
			files: map[string]string{".kamal/secrets": "KAMAL_REGISTRY_PASSWORD=$(" + slow + ")\n"},
			args:  []string{"secrets", "print"},
			sig:   syscall.SIGINT,
			want:  "ERROR (Interrupt): Interrupted while running $(" + slow + ") (.kamal/secrets:1)",
		},
		{
			name:  "secrets_command_sigterm_in_a_dry_run",
			files: map[string]string{".kamal/secrets": "KAMAL_REGISTRY_PASSWORD=$(" + slow + ")\n"},
			args:  []string{"build", "push", "--dry-run", "--version=v1"},
			sig:   syscall.SIGTERM,
			want:  "ERROR (Interrupt): Interrupted while running $(" + slow + ") (.kamal/secrets:1)",
		},
		{
			// SIGTERM ignored by the whole group: SIGKILL after
			// executor.LoadGrace.
			name:  "secrets_command_ignoring_sigterm",
			files: map[string]string{".kamal/secrets": "KAMAL_REGISTRY_PASSWORD=$(trap '' TERM; " + slow + ")\n"},
			args:  []string{"secrets", "print"},
			sig:   syscall.SIGTERM,
			want:  "ERROR (Interrupt): Interrupted while running $(trap '' TERM; " + slow + ") (.kamal/secrets:1)",
		},
		{
			name:  "erb_backtick_sigterm",
			files: map[string]string{"config/deploy.yml": strings.Replace(kamal2Config, "service: app", "service: app<%= `"+slow+"`.strip %>", 1)},
			args:  []string{"config"},
			sig:   syscall.SIGTERM,
			want:  "ERROR (Interrupt): Interrupted while running `" + slow + "`",
		},
		{
			// A hash literal: rendered by Ruby's own ERB (the fallback).
			name:  "erb_rendered_by_ruby_sigint",
			files: map[string]string{"config/deploy.yml": strings.Replace(kamal2Config, "service: app", "service: app<% h = {a: 1}; `"+slow+"` %>", 1)},
			args:  []string{"config"},
			sig:   syscall.SIGINT,
			want:  "ERROR (Interrupt): Interrupted while running kamal config",
		},
		{
			name: "script_top_level_loop_sigint",
			files: map[string]string{".kamal/scripts/build.star": "local.run(cmd(\"sh\", \"-c\", \"echo $$ > started\"))\n" +
				"def spin():\n    for i in range(1 << 62):\n        pass\nspin()\n"},
			args:  []string{"build", "push"}, // the top level runs before any step
			sig:   syscall.SIGINT,
			want:  "ERROR (Interrupt): Interrupted in spin at ",
			ready: "Finished in",
		},
	}
	kamal, err := exec.LookPath("kamal")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"config/deploy.yml": kamal2Config}
			for k, v := range tt.files {
				files[k] = v
			}
			for name, content := range files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out lockedBuffer
			cmd := exec.Command(kamal, tt.args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "KAMAL_REGISTRY_PASSWORD=pw", "VERSION=v1", "HOME="+dir)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer cmd.Process.Kill()

			pid := waitForPid(t, filepath.Join(dir, "started"), done, &out)
			for !strings.Contains(out.String(), tt.ready) {
				time.Sleep(10 * time.Millisecond)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			var werr error
			select {
			case werr = <-done:
			case <-time.After(10 * time.Second): // a guard against a hang; the target is 1 s
				t.Fatalf("kamal %v still running 10 s after %v\n%s", tt.args, tt.sig, out.String())
			}
			var ee *exec.ExitError
			if !errors.As(werr, &ee) || ee.ExitCode() != 128+int(tt.sig) {
				t.Errorf("exit = %v, want %d\n%s", werr, 128+int(tt.sig), out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, out.String())
			}
			if strings.Contains(out.String(), "@kamal//") {
				t.Errorf("the interrupt names a frame of the stock script:\n%s", out.String())
			}
			if pid != 0 && (groupHasLiveMember(pid) || groupHasLiveMember(processGroup(pid))) {
				t.Errorf("the process group of %d still has a live member after kamal exited", pid)
			}
		})
	}
}

// waitForPid waits for the file a command writes its pid to.
func waitForPid(t *testing.T, path string, done <-chan error, out *lockedBuffer) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			return pid
		}
		select {
		case err := <-done:
			t.Fatalf("kamal ended (%v) before its command started:\n%s", err, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatal("the command never started")
	return 0
}

// processGroup is pid's process group, or 0 when pid is gone.
func processGroup(pid int) int {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	if len(f) < 3 || f[0] == "Z" {
		return 0
	}
	pgid, _ := strconv.Atoi(f[2])
	return pgid
}

// groupHasLiveMember reports whether process group pgid has a process
// that is not a zombie.
func groupHasLiveMember(pgid int) bool {
	if pgid == 0 {
		return false
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 2 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			return true
		}
	}
	return false
}

// An interrupt that lands in the stock script names the command the user
// ran, never the stock script's frame (it was "Interrupted in
// push_kamal15 at @kamal//build.star:140:9"); one in the user's own
// script names its position.
func TestDescribeInterruptNamesWhatTheUserRan(t *testing.T) {
	spin := func(file string) error {
		th := &starlark.Thread{Name: "test"}
		th.Cancel("interrupted")
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, th, file, "def push_kamal15():\n    for i in range(10):\n        pass\npush_kamal15()\n", nil)
		return err
	}
	if got, want := describeInterrupt(spin("@kamal//build.star"), "kamal build push"), "Interrupted while running kamal build push"; got != want {
		t.Errorf("stock frame: %q, want %q", got, want)
	}
	if got := describeInterrupt(spin("deploy.star"), "kamal build push"); !strings.HasPrefix(got, "Interrupted in ") || !strings.Contains(got, "deploy.star:") {
		t.Errorf("user's frame: %q", got)
	}
}

// A file kamal may not read is Ruby's Errno::EACCES, worded as File.read
// words it (checked with Debian's ruby 3.1 as an unprivileged user); it
// read "RuntimeError: open …: permission denied". Root reads any file, so
// kamal runs as nobody (setpriv).
func TestPermissionErrorsReadAsRuby(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and setpriv to run kamal as an unprivileged user")
	}
	dir, err := os.MkdirTemp("", "kamal-perm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin, err := os.ReadFile(kamalBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	config := strings.Replace(kamal2Config, "    - KAMAL_REGISTRY_PASSWORD", "    - SECRET", 1)
	for name, mode := range map[string]os.FileMode{"kamal": 0o755, "config/deploy.yml": 0o644, ".kamal/secrets": 0o000} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		content := []byte(config)
		switch name {
		case "kamal":
			content = bin
		case ".kamal/secrets":
			content = []byte("SECRET=1\n")
		}
		if err := os.WriteFile(p, content, mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
	}
	os.Chmod(dir, 0o755)
	run := func(args ...string) string {
		cmd := exec.Command(setpriv, append([]string{"--reuid=nobody", "--regid=nogroup", "--clear-groups", "./kamal"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "VERSION=v1"}
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run("secrets", "print"); !strings.Contains(out, "ERROR (Errno::EACCES): Permission denied @ rb_sysopen - .kamal/secrets") {
		t.Errorf("secrets:\n%s", out)
	}
	os.Chmod(filepath.Join(dir, "config/deploy.yml"), 0)
	if out := run("config"); !strings.Contains(out, "ERROR (Errno::EACCES): Permission denied @ rb_sysopen - "+filepath.Join(dir, "config/deploy.yml")) {
		t.Errorf("config:\n%s", out)
	}
}

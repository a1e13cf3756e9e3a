package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamal-go/kamal/internal/testenv"
)

// syncBuffer is the output of a run read while it runs.
type syncBuffer = testenv.SyncBuffer

// Started is a kamal run in progress, for tests that act while it runs
// (send a signal, kill a server's connection, release a lock).
type Started struct {
	t              *testing.T
	args           []string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{}
	err            error
}

// Start starts the kamal binary in the app dir and returns at once.
func (a *App) Start(extra []string, args ...string) *Started {
	a.t.Helper()
	s := &Started{t: a.t, args: args, done: make(chan struct{})}
	s.cmd = exec.Command(kamalBin, args...)
	s.cmd.Dir = a.Dir
	s.cmd.Env = a.env(extra)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		a.t.Fatalf("starting kamal: %v", err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	a.t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// WaitFor waits until cond holds for the output so far; the test fails if
// the run ends first (or, as a guard against a hang, after runTimeout).
func (s *Started) WaitFor(what string, cond func(stdout string) bool) {
	s.t.Helper()
	deadline := time.After(runTimeout)
	for !cond(s.stdout.String()) {
		select {
		case <-s.done:
			if cond(s.stdout.String()) {
				return
			}
			s.t.Fatalf("kamal %s ended before %s\nstdout:\n%s\nstderr:\n%s", strings.Join(s.args, " "), what, s.stdout.String(), s.stderr.String())
		case <-deadline:
			s.t.Fatalf("kamal %s: no %s within %v\nstdout:\n%s", strings.Join(s.args, " "), what, runTimeout, s.stdout.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// WaitForText waits until stdout contains text n times.
func (s *Started) WaitForText(text string, n int) {
	s.t.Helper()
	s.WaitFor(strconv.Quote(text), func(out string) bool { return strings.Count(out, text) >= n })
}

// Signal sends sig to the kamal process.
func (s *Started) Signal(sig syscall.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signalling kamal: %v", err)
	}
}

// Wait waits for the run to end and returns what Run returns.
func (s *Started) Wait() (stdout, stderr string, exit int) {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(runTimeout):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("kamal %s did not finish within %v", strings.Join(s.args, " "), runTimeout)
	}
	stdout, stderr = s.stdout.String(), s.stderr.String()
	recordOutput(stdout, stderr)
	var exitErr *exec.ExitError
	switch {
	case errors.As(s.err, &exitErr):
		exit = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			exit = 128 + int(ws.Signal())
			s.t.Errorf("kamal was killed by %v instead of exiting", ws.Signal())
		}
	case s.err != nil:
		s.t.Fatalf("kamal %s: %v", strings.Join(s.args, " "), s.err)
	}
	s.t.Logf("$ kamal %s  # exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(s.args, " "), exit, stdout, stderr)
	return stdout, stderr, exit
}

// processes returns the pid and command line of every process on this
// machine (the rig's servers included) whose command line contains marker.
func processes(t *testing.T, marker string) map[int]string {
	t.Helper()
	out := map[int]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		line := strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
		if strings.Contains(line, marker) && !processIsZombie(pid) {
			out[pid] = line
		}
	}
	return out
}

func processIsZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z'
}

// killProcesses ends processes this test made (found by a marker only
// this test uses), by pid.
func killProcesses(t *testing.T, marker string) {
	for pid := range processes(t, marker) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// parentOf is the parent pid of pid (0 if unknown).
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// sshdListener is the pid of host's sshd listener (from the rig's pid file).
func sshdListener(t *testing.T, host string) int {
	t.Helper()
	return pidFile(t, filepath.Join(rig.State, "pids", "sshd-"+host+".pid"))
}

// pidFile is the pid a rig's pid file holds.
func pidFile(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// killConnectionOf kills (SIGKILL) the sshd process serving the SSH
// connection that runs pid on host: the per-connection sshd whose parent is
// the host's listener. Only that connection drops; the listener and other
// clients' connections are untouched.
func killConnectionOf(t *testing.T, host string, pid int) {
	t.Helper()
	killConnectionUnder(t, host, sshdListener(t, host), pid)
}

// killConnectionUnder is killConnectionOf with host's sshd listener given.
func killConnectionUnder(t *testing.T, host string, listener, pid int) {
	t.Helper()
	for p := pid; p > 1; p = parentOf(p) {
		if parentOf(p) == listener {
			if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
				t.Fatalf("killing sshd %d: %v", p, err)
			}
			return
		}
	}
	t.Fatalf("no sshd of %s (listener %d) above process %d", host, listener, pid)
}

// waitGone waits until no process matches marker (guarded by runTimeout).
func waitGone(t *testing.T, marker string) map[int]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		left := processes(t, marker)
		if len(left) == 0 || ctx.Err() != nil {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultGrace is how long Local waits after SIGTERM before SIGKILL.
const DefaultGrace = 2 * time.Second

// LoadGrace is the grace for the commands a config runs while it loads
// (ERB backticks, secrets' $(...), Ruby rendering ERB): short, so that an
// interrupt ends the load within a second even when one ignores SIGTERM.
const LoadGrace = 500 * time.Millisecond

// Local runs command lines on this machine with "/bin/sh -c Script", or,
// when the script is plain words a shell would not interpret (see
// directArgv) and Shell is not set, by executing the program directly, as
// Ruby does, which saves a shell start. The zero value is ready to use and
// safe for concurrent use.
//
// Each command runs in its own process group. When ctx is cancelled the
// whole group gets SIGTERM, and SIGKILL once Grace has passed if any member
// is still alive; Run returns only after the shell has been reaped and no
// live member of the group is left (or SIGKILL has been sent), with an
// error wrapping ctx.Err(). Processes that left the group (setsid) are
// not followed.
//
// Output is copied to the request's writers in chunks as it is produced
// (never accumulated). Run waits until both output pipes reach EOF, so a
// background process that keeps the shell's stdout open keeps Run waiting,
// like SSHKit's local backend.
//
// The status is the shell's exit code (0–255); a shell killed by a signal
// (other than through cancellation) reports 128+signal, as shells do.
type Local struct {
	Shell string        // default "/bin/sh"
	Grace time.Duration // default DefaultGrace
	// Env is "K=V" added to os.Environ() for every command, before the
	// request's own Env (which wins): the run's additions to its process
	// environment (Kamal 1's .env), given here instead of set in this
	// process with os.Setenv.
	Env []string
}

var _ Transport = (*Local)(nil)

// Run runs req.Script locally. host must be "".
func (l *Local) Run(ctx context.Context, host string, req Request) (int, error) {
	if host != "" {
		return -1, fmt.Errorf("local transport cannot run on host %q", host)
	}
	if err := ctx.Err(); err != nil {
		return -1, fmt.Errorf("local command not started: %w", err)
	}
	if err := Refuse(ctx, "a local command"); err != nil {
		return -1, err
	}
	shell, grace := l.Shell, l.Grace
	if shell == "" {
		shell = "/bin/sh"
	}
	if grace <= 0 {
		grace = DefaultGrace
	}

	out := newOutputs(req.Stdout, req.Stderr)
	defer out.detach()
	env := req.Env
	if len(l.Env) > 0 && !req.WholeEnv {
		env = append(append([]string(nil), l.Env...), req.Env...)
	}
	prepare := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(name, args...)
		cmd.Dir = req.Dir
		cmd.Env = append(os.Environ(), env...)
		if req.WholeEnv {
			cmd.Env = req.Env
		}
		cmd.Stdin = req.Stdin
		cmd.ExtraFiles = req.ExtraFiles
		if req.Stdout != nil {
			cmd.Stdout = out.stdout
		}
		if req.Stderr != nil {
			cmd.Stderr = out.stderr
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if req.Terminal != nil {
			cmd.SysProcAttr.Foreground = true
			cmd.SysProcAttr.Ctty = int(req.Terminal.Fd())
		}
		return cmd
	}
	if req.Terminal != nil {
		foregroundMu.Lock()
		defer foregroundMu.Unlock()
		defer reclaimTerminal(req.Terminal)
	}
	var cmd *exec.Cmd
	if argv := directArgv(req.Script, env); argv != nil && l.Shell == "" {
		// Nothing for a shell to do: run the program itself, as Ruby (and
		// so SSHKit's local backend) does, saving a shell start. If it
		// cannot even start, the shell runs it and reports as usual.
		cmd = prepare(argv[0], argv[1:]...)
		if req.Dir != "" {
			// A shell would set PWD to the directory it starts in.
			if abs, err := filepath.Abs(req.Dir); err == nil {
				cmd.Env = append(cmd.Env, "PWD="+abs)
			}
		}
		if cmd.Start() != nil {
			cmd = nil
		}
	}
	if cmd == nil {
		cmd = prepare(shell, "-c", req.Script)
		if err := cmd.Start(); err != nil {
			return -1, fmt.Errorf("starting %s: %w", shell, err)
		}
	}
	pgid := cmd.Process.Pid
	running.add(pgid)
	defer running.remove(pgid)

	exited := make(chan struct{})
	stopped := make(chan bool, 1) // whether cancellation ended the group
	go func() { stopped <- stopGroupOnCancel(ctx, pgid, grace, exited) }()
	werr := cmd.Wait()
	close(exited)
	cancelled := <-stopped
	if cancelled {
		return -1, fmt.Errorf("local command cancelled: %w", ctx.Err())
	}
	status, err := exitStatus(cmd, werr)
	if err != nil {
		return -1, err
	}
	if req.Terminal != nil && endedByInterrupt(cmd) {
		return -1, ErrTerminalInterrupt
	}
	return out.finish(status)
}

// stopGroupOnCancel waits until exited closes or ctx is cancelled. On
// cancellation it sends the process group pgid SIGTERM, then SIGKILL
// after grace, and returns true once the group has gone (the shell reaped,
// exited closed, and no member left).
func stopGroupOnCancel(ctx context.Context, pgid int, grace time.Duration, exited <-chan struct{}) bool {
	select {
	case <-exited:
		return false
	case <-ctx.Done():
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	shellDone := false
	for {
		select {
		case <-exited:
			shellDone = true
		case <-poll.C:
		case <-deadline.C:
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			// SIGKILL is delivered asynchronously: wait (briefly) until
			// the group has really gone, so that Run's caller never
			// sees a member still running.
			for i := 0; i < 100 && groupAlive(pgid); i++ {
				time.Sleep(20 * time.Millisecond)
			}
			return true
		}
		// The group is gone once the shell is reaped and no live
		// member is left.
		if shellDone && !groupAlive(pgid) {
			return true
		}
	}
}

// ErrTerminalInterrupt is Run's error for a command holding the terminal
// (Request.Terminal) that Ctrl-C ended: the user's interrupt, which the
// caller handles as its own SIGINT.
var ErrTerminalInterrupt = errors.New("interrupted at the terminal")

// endedByInterrupt: the command was killed by SIGINT, or its shell
// exited 130 after a child was.
func endedByInterrupt(cmd *exec.Cmd) bool {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && (ws.Signaled() && ws.Signal() == syscall.SIGINT || ws.Exited() && ws.ExitStatus() == 130)
}

// exitStatus turns cmd's Wait result into a shell-style status.
func exitStatus(cmd *exec.Cmd, werr error) (int, error) {
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return -1, fmt.Errorf("running local command: %w", werr)
	}
	ps := cmd.ProcessState
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ps.ExitCode(), nil
}

// running are the process groups of local commands in flight, for
// KillRunning.
var running = &groups{m: map[int]bool{}}

type groups struct {
	mu sync.Mutex
	m  map[int]bool
}

func (g *groups) add(pgid int)    { g.mu.Lock(); g.m[pgid] = true; g.mu.Unlock() }
func (g *groups) remove(pgid int) { g.mu.Lock(); delete(g.m, pgid); g.mu.Unlock() }

// KillRunning sends SIGKILL to the process group of every local command
// still running: for a process about to exit without waiting for them (a
// second Ctrl-C).
func KillRunning() {
	running.mu.Lock()
	defer running.mu.Unlock()
	for pgid := range running.m {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// shellWords are the builtins and keywords of POSIX shells: a command
// starting with one needs the shell even when it looks plain.
var shellWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(". : [ alias bg break case cd chdir command continue do done echo elif else esac eval exec exit " +
		"export false fc fg fi for getopts hash if in jobs kill local printf pwd read readonly return select set shift " +
		"source test then times trap true type typeset ulimit umask unalias unset until wait while") {
		shellWords[w] = true
	}
}

// directArgv returns script as an argument vector to execute without a
// shell, or nil when the shell matters: any character a shell would
// interpret (quotes, $, globs, redirections, ~, #, newlines...), a leading
// variable assignment or shell builtin, a program named by a relative path,
// or a PATH set for the command (the lookup would differ).
func directArgv(script string, env []string) []string {
	for i := 0; i < len(script); i++ {
		c := script[i]
		if c != ' ' && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && !('0' <= c && c <= '9') && !strings.ContainsRune("_@%+=:,./-", rune(c)) {
			return nil
		}
	}
	argv := strings.Fields(script)
	if len(argv) == 0 || strings.Contains(argv[0], "=") || shellWords[argv[0]] ||
		strings.Contains(argv[0], "/") && !strings.HasPrefix(argv[0], "/") {
		return nil
	}
	for _, e := range env {
		if strings.HasPrefix(e, "PATH=") {
			return nil
		}
	}
	return argv
}

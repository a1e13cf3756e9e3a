// Package sshkit runs commands the way SSHKit does for Kamal: each command
// gets an id, "Running"/"Command:"/output/"Finished" log lines at its
// verbosity, and a failure raises an error whose text is SSHKit's three-line
// message. It sits between the builtins, which decide what to run, and the
// transports in runtime/executor, which move bytes.
package sshkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kamal-go/kamal/runtime/sshurl"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Runner executes commands locally or on hosts and logs them. It is safe
// for concurrent use when its transports are.
type Runner struct {
	Log    *log.Logger
	Local  executor.Transport
	Remote executor.Transport
	// DryRun logs every command as a successful run would and runs none.
	DryRun bool
	// LocalUser names the local user in "as USER@localhost"; empty gives
	// "on localhost", as SSHKit does when $USER, $LOGNAME and $USERNAME are
	// all unset.
	LocalUser string
	// CommandTimeout bounds each command on a host (sshkit.command_timeout,
	// a kamal-go extension); 0 means no bound. Local commands (builds,
	// hooks) are not bounded.
	CommandTimeout time.Duration
}

// Options tune one command.
type Options struct {
	// Level is the command's verbosity: Info for Kamal's execute, Debug for
	// capture, lock and audit commands.
	Level log.Level
	// Force shows all of the command's lines whatever the threshold (the
	// build command's output is always shown).
	Force bool
	// NoRaise returns a failed command's result instead of an error and
	// logs its "Finished ... (failed)." line.
	NoRaise bool
	// Rescue returns a failed command's result instead of an error and logs
	// no "Finished" line, as when Kamal rescues a raised failure.
	Rescue bool
	// Capture keeps all of stdout in the result (otherwise only a tail is
	// kept, for the failure message).
	Capture bool
	// Dir and Env apply to local commands only.
	Dir string
	Env []string
	// Stdin feeds the command's standard input.
	Stdin io.Reader
}

// Result is what a command left behind.
type Result struct {
	Status int // as SSHKit reports it: local statuses are multiplied by 256
	Stdout string
	Stderr string
}

// OK reports whether the command exited 0.
func (r Result) OK() bool { return r.Status == 0 }

// tail is how much of a stream is kept for a failure message when the
// command is not captured: enough for any error, bounded for huge builds.
const tail = 64 << 10

// Run runs c on host ("" runs it locally) and logs it.
func (r *Runner) Run(ctx context.Context, host string, c *shell.Command, o Options) (Result, error) {
	cl := &log.CommandLog{L: r.Log, ID: log.NewID(), Level: o.Level, Force: o.Force}
	where := "on " + DisplayHost(host)
	if host == "" {
		where = "on localhost"
		if r.LocalUser != "" {
			where = "as " + r.LocalUser + "@localhost"
		}
	}
	cl.Start(c.Logged(), c.Debug(), where)
	if r.DryRun {
		cl.Finish(0, 0)
		return Result{}, nil
	}

	keep := tail
	if o.Capture {
		keep = -1
	}
	stdout := &log.LineWriter{Log: cl, Keep: keep}
	stderr := &log.LineWriter{Log: cl, Stderr: true, Keep: tail}
	req := executor.Request{Script: c.Executed(), Logged: c.Logged(), Stdin: o.Stdin, Stdout: stdout, Stderr: stderr}
	if req.Stdin == nil && c.Stdin != "" {
		req.Stdin = strings.NewReader(c.Stdin)
	}
	t := r.Remote
	if host == "" {
		t = r.Local
		req.Dir, req.Env = o.Dir, append(append([]string(nil), o.Env...), c.ProcessEnv...)
	}
	start := time.Now()
	runCtx := ctx
	if host != "" && r.CommandTimeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, r.CommandTimeout)
		defer cancel()
	}
	status, err := t.Run(runCtx, host, req)
	stdout.Flush()
	stderr.Flush()
	if err != nil {
		switch {
		case ctx.Err() != nil:
			err = &Interrupted{Command: c.Logged(), Where: where, Err: err}
		case runCtx.Err() != nil:
			err = &TimedOut{Command: c.Logged(), After: r.CommandTimeout}
		}
		if host != "" {
			return Result{}, &HostError{Host: DisplayHost(host), Err: err}
		}
		return Result{}, fmt.Errorf("%s: %w", c.Name(), err)
	}
	if host == "" {
		status *= 256 // SSHKit's local backend reports the raw wait status
	}
	res := Result{Status: status, Stdout: stdout.Text(), Stderr: stderr.Text()}
	if status != 0 && o.Rescue {
		return res, nil
	}
	if status != 0 && !o.NoRaise {
		failed := &CommandFailed{Name: c.Name(), Status: status, Stdout: res.Stdout, Stderr: res.Stderr}
		if host != "" {
			return res, &HostError{Host: DisplayHost(host), Err: failed}
		}
		return res, failed
	}
	cl.Finish(time.Since(start), status)
	return res, nil
}

// DisplayHost is how log lines and errors name host. A host given as an
// SSH URL (ssh://user@name:port, as Kamal's remote builder is configured)
// is named by its host name alone, as SSHKit names a host it was given
// with separate user and port options.
func DisplayHost(host string) string {
	if !sshurl.Is(host) {
		return host
	}
	if u, err := sshurl.Parse(host); err == nil {
		return u.Host
	}
	return host
}

// LocalUserFromEnv returns $USER, else $LOGNAME, else $USERNAME, as SSHKit.
func LocalUserFromEnv() string {
	for _, k := range []string{"USER", "LOGNAME", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// CommandFailed is SSHKit::Command::Failed: a command exited non-zero.
type CommandFailed struct {
	Name   string
	Status int
	Stdout string
	Stderr string
}

func nothing(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "Nothing written"
	}
	return s
}

func (e *CommandFailed) Error() string {
	return fmt.Sprintf("%s exit status: %d\n%s stdout: %s\n%s stderr: %s",
		e.Name, e.Status, e.Name, nothing(e.Stdout), e.Name, nothing(e.Stderr))
}

// Class is the Ruby class Kamal names in its error line.
func (e *CommandFailed) Class() string { return "SSHKit::Command::Failed" }

// Interrupted reports a command cut off because the run was interrupted
// (its context was cancelled: SIGINT, SIGTERM).
type Interrupted struct {
	Command string // as logged (sensitive values redacted)
	Where   string // "on server1", "on localhost"
	Err     error
}

func (e *Interrupted) Error() string {
	return "Interrupted while running " + e.Command + " " + e.Where
}

func (e *Interrupted) Unwrap() error { return e.Err }

// Class is Ruby's Interrupt, which a Ctrl-C raises.
func (e *Interrupted) Class() string { return "Interrupt" }

// TimedOut reports a command on a host that ran longer than
// sshkit.command_timeout; its session was closed.
type TimedOut struct {
	Command string
	After   time.Duration
}

func (e *TimedOut) Error() string {
	return fmt.Sprintf("%s did not finish within %v (sshkit.command_timeout); its session was closed", e.Command, e.After)
}

// Class is Ruby's Timeout::Error.
func (e *TimedOut) Class() string { return kamalerr.ClassTimeout }

// HostError wraps whatever went wrong on one host, as SSHKit's runner does.
type HostError struct {
	Host string
	Err  error
}

func (e *HostError) Error() string {
	return "Exception while executing on host " + e.Host + ": " + e.Err.Error()
}

func (e *HostError) Unwrap() error { return e.Err }

// Class is the class of the underlying cause, as Kamal prints it.
func (e *HostError) Class() string { return ClassOf(e.Err) }

// HostErrors are failures on several hosts of one parallel step.
type HostErrors []*HostError

func (e HostErrors) Error() string {
	if len(e) == 1 {
		return e[0].Error()
	}
	msgs := make([]string, len(e))
	for i, he := range e {
		msgs[i] = he.Error()
	}
	return fmt.Sprintf("Exceptions on %d hosts:\n%s", len(e), strings.Join(msgs, "\n"))
}

// Class is the first failure's class.
func (e HostErrors) Class() string { return ClassOf(e[0]) }

// Unwrap gives errors.Is/As access to every host's error.
func (e HostErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, he := range e {
		out[i] = he
	}
	return out
}

// ClassOf returns the Ruby class name Kamal would print for err: the Class
// of the first error in its chain that has one, else a class guessed from
// the transport error's text, else RuntimeError.
func ClassOf(err error) string {
	if class := kamalerr.ClassOf(err); class != "" {
		return class
	}
	var c interface{ Class() string }
	if errors.As(err, &c) {
		return c.Class()
	}
	msg := err.Error()
	switch {
	case errors.Is(err, context.Canceled):
		return "Interrupt"
	case strings.Contains(msg, "connection refused"):
		return "Errno::ECONNREFUSED"
	case strings.Contains(msg, "no route to host"):
		return "Errno::EHOSTUNREACH"
	case strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "timed out"):
		return "Net::SSH::ConnectionTimeout"
	case strings.Contains(msg, "authentication failed"), strings.Contains(msg, "unable to authenticate"):
		return "Net::SSH::AuthenticationFailed"
	case strings.Contains(msg, "host key"):
		return "Net::SSH::HostKeyMismatch"
	case strings.Contains(msg, "no such host"):
		return kamalerr.ClassSocket
	}
	return kamalerr.ClassRuntime
}

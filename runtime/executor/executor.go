// Package executor holds the transports that run one shell command line:
// Local runs it with /bin/sh -c on this machine, SSH runs it on a server
// over a pooled SSH connection (the server's shell interprets it, as
// OpenSSH does for "ssh host 'command'").
//
// A transport only moves bytes and reports exit statuses. Logging, SSHKit's
// status quirks and error messages for failed commands belong to the
// callers (runtime/sshkit).
package executor

import (
	"context"
	"io"
	"os"
)

// Request is one command line to run.
type Request struct {
	Script string // the exact shell command line (already rendered)
	// Logged is the command as the log shows it ("Running ... on HOST"),
	// sensitive words redacted, when the caller logs it; "" otherwise.
	// Transports that record commands rather than run them keep this.
	Logged string
	// Query marks a fact the run reads silently on this machine
	// (sshkit.Runner.Query: git queries, whoami, docker's architecture).
	Query bool
	Env   []string // extra "K=V" for local commands (added to os.Environ()); ignored remotely
	// WholeEnv makes Env a local command's whole environment instead of
	// an addition to os.Environ() (a variable can then be left out).
	WholeEnv bool
	// ExtraFiles are open files a local command inherits as descriptors
	// 3, 4, ... (exec.Cmd.ExtraFiles); ignored remotely.
	ExtraFiles []*os.File
	// Terminal, when set (see ForegroundTerminal), is handed to a local
	// command's process group while it runs, so that it can read it; a
	// command that then ends by the terminal's SIGINT (Ctrl-C) is
	// reported as ErrTerminalInterrupt.
	Terminal *os.File
	Dir      string    // local working directory ("" = current); ignored remotely
	Stdin    io.Reader // optional; nil means empty input
	// Stdout and Stderr receive output as it arrives (nil discards it).
	// Each writer is called from at most one goroutine at a time (when
	// both are the same writer, calls to it are serialized too), and never
	// after Run has returned. If a writer fails, the rest of that stream is
	// discarded, the command still runs to its end and Run reports the
	// write error.
	Stdout io.Writer
	Stderr io.Writer
}

// Transport runs commands on one kind of target. Implementations are safe for concurrent use.
type Transport interface {
	// Run runs req.Script on host ("" for local) and returns its exit status.
	// A non-nil error means the command could not be run or was cut off (connection failed,
	// context cancelled); a command that ran and exited non-zero returns (status, nil).
	Run(ctx context.Context, host string, req Request) (status int, err error)
}

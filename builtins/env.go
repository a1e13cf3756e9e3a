// Package builtins holds the Go functions the Starlark scripts call, one
// file per module (config, cmd/shell, local, ssh, on, hook, lock, docker,
// git, log). Builtins are small: each does one thing, logs it the Kamal
// way through the sshkit runner, and returns a value or an error.
//
// Every builtin reads its state from an *Env shared by all threads of one
// run; what an Env holds is either immutable after setup or guarded.
package builtins

import (
	"context"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Flags are the global command-line options the flow can see.
type Flags struct {
	Verbose, Quiet bool
	SkipHooks      bool
	DryRun         bool
	Primary        bool
	Version        string // --version
	Hosts, Roles   []string
	Destination    string
	ConfigFile     string
	Command        string // "build"
	Subcommand     string // "push"
	// LockWait polls a deploy lock held automatically by another run
	// (--lock-wait), for up to LockWaitTimeout seconds (default 900), every
	// LockWaitInterval seconds (default 15).
	LockWait                          bool
	LockWaitTimeout, LockWaitInterval float64
}

// Env is the state of one run.
type Env struct {
	Dir       string // the app's root: where config, hooks and git live
	Config    *config.Config
	Selection *config.Selection
	Flags     Flags
	Version   string // resolved once before the script starts
	Runner    *sshkit.Runner
	Log       *log.Logger
	// Builder renders the configured builder's commands.
	Builder commands.Builder
	// Breakpoint opens the prompt with locals in scope; set by the runtime.
	// Nil makes breakpoint() a no-op.
	Breakpoint func(thread *starlark.Thread, locals starlark.StringDict) error

	mu         sync.Mutex
	lockHeld   bool
	preConnect bool // the pre-connect hook ran (or was skipped) already
	gitCache   map[string]string
}

// contextKey is the thread-local key holding the run's context.Context,
// the same key go.starlark.net's repl uses.
const contextKey = "context"

// Context returns the context of the thread, or Background.
func Context(thread *starlark.Thread) context.Context {
	if ctx, ok := thread.Local(contextKey).(context.Context); ok {
		return ctx
	}
	return context.Background()
}

// SetContext attaches ctx to thread, for builtins to pass to commands.
func SetContext(thread *starlark.Thread, ctx context.Context) {
	thread.SetLocal(contextKey, ctx)
}

// envKey is the thread-local key holding the *Env.
const envKey = "kamal.env"

// EnvOf returns the Env of thread.
func EnvOf(thread *starlark.Thread) *Env {
	e, _ := thread.Local(envKey).(*Env)
	return e
}

// Attach makes e the Env of thread.
func (e *Env) Attach(thread *starlark.Thread) { thread.SetLocal(envKey, e) }

// LockHeld reports whether this run holds the deploy lock.
func (e *Env) LockHeld() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lockHeld
}

func (e *Env) setLockHeld(v bool) {
	e.mu.Lock()
	e.lockHeld = v
	e.mu.Unlock()
}

// timestamp is how Kamal writes the time in audit lines, lock details and
// KAMAL_RECORDED_AT: UTC ISO 8601 to the second.
func timestamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05Z") }

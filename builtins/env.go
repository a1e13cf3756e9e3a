// Package builtins holds the Go functions the Starlark scripts call, one
// file per module (shell, local, ssh, lock, docker, builder, git, log),
// each global function in the file of what it works on (cmd and secret in
// cmd.go, on, hook, audit, say with log, error, breakpoint in debug.go).
// Each builtin is registered once, in a Builtin entry next to its code
// with its signature and contract: the names scripts see (Predeclared)
// and the reference (`kamal build api`, docs/builtins.md) are both made
// from the entries (api.go). Builtins are small: each does one thing, logs
// it the Kamal way through the sshkit runner, and returns a value or an
// error.
//
// Every builtin reads its state from an *Env shared by all threads of one
// run; what an Env holds is either immutable after setup or guarded.
package builtins

import (
	"context"
	"sync"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/hook"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
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
	// NewBuilder renders the builder for a variant of Config (docker.build
	// with overrides); nil: overrides are refused.
	NewBuilder func(*config.Config) (commands.Builder, error)
	// Lock is the deploy lock, Hooks the hooks, of this run.
	Lock  *lock.Lock
	Hooks *hook.Hooks
	// Debugger stops threads at breakpoint() and follows the threads on()
	// starts; set by the runtime. Nil makes breakpoint() a no-op.
	Debugger Debugger

	// starlarkMu is held by each thread on() made while it runs Starlark
	// code, and released while it waits (a command, a prompt): the hosts'
	// threads share the caller's unfrozen values, so at most one of them
	// may touch values at a time, while their commands run in parallel.
	starlarkMu sync.Mutex

	mu       sync.Mutex
	gitCache map[string]string
}

// Debugger is what builtins need of the run's debugger.
type Debugger interface {
	// Attach prepares child, a thread parent started, to stop.
	Attach(parent, child *starlark.Thread)
	// Breakpoint stops thread at its caller's line until the user goes on.
	Breakpoint(thread *starlark.Thread) error
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

// holdsKey is the thread-local key marking a thread that holds its Env's
// starlarkMu.
const holdsKey = "kamal.holds"

// hold makes thread wait for and hold e's Starlark lock; release ends it.
func (e *Env) hold(thread *starlark.Thread) {
	e.starlarkMu.Lock()
	thread.SetLocal(holdsKey, true)
}

func (e *Env) release(thread *starlark.Thread) {
	thread.SetLocal(holdsKey, false)
	e.starlarkMu.Unlock()
}

// Blocking calls f, a wait that touches no Starlark value (a command, a
// prompt's input, other threads), with thread's hold on the run's
// Starlark lock given up meanwhile, so that other hosts' threads run.
func Blocking(thread *starlark.Thread, f func()) {
	e := EnvOf(thread)
	if e == nil || thread.Local(holdsKey) != true {
		f()
		return
	}
	e.starlarkMu.Unlock()
	defer e.starlarkMu.Lock()
	f()
}

// HoldLike makes t hold the run's Starlark lock when like does (like
// being in Blocking), for code that evaluates on t while like waits (a
// prompt at a stop inside on()); call the returned func when done.
func HoldLike(like, t *starlark.Thread) (done func()) {
	e := EnvOf(like)
	if e == nil || like.Local(holdsKey) != true {
		return func() {}
	}
	e.hold(t)
	return func() { e.release(t) }
}

// run runs c through the runner, as a wait (see Blocking).
func (e *Env) run(thread *starlark.Thread, ctx context.Context, host string, c *shell.Command, o sshkit.Options) (res sshkit.Result, err error) {
	Blocking(thread, func() { res, err = e.Runner.Run(ctx, host, c, o) })
	return res, err
}

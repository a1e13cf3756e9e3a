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

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/runstate"
)

// Env is what the builtins of one run share: the run's state (set up by
// runstate.New; its fields are promoted, so builtins read e.Config,
// e.Runner...), the debugger, and the lock that on()'s threads take
// turns with.
type Env struct {
	*runstate.State
	// Debugger stops threads at breakpoint() and follows the threads on()
	// starts; set by the runtime. Nil makes breakpoint() a no-op.
	Debugger Debugger

	// starlarkMu is held by each thread on() made while it runs Starlark
	// code, and released while it waits (in a builtin registered with
	// Waits, or the debugger's prompt): the hosts' threads share the
	// caller's unfrozen values, so at most one of them may touch values at
	// a time, while their commands run in parallel. The transports refuse
	// to start anything for a thread holding it (executor.Refuse).
	starlarkMu sync.Mutex
}

// NewEnv returns the builtins' Env for the run st.
func NewEnv(st *runstate.State) *Env { return &Env{State: st} }

// Debugger is what builtins need of the run's debugger.
type Debugger interface {
	// Attach prepares child, a thread parent started, to stop.
	Attach(parent, child *starlark.Thread)
	// Breakpoint stops thread at its caller's line until the user goes on.
	Breakpoint(thread *starlark.Thread) error
	// Detach forgets child, a thread Attach prepared, once it has finished.
	Detach(child *starlark.Thread)
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

// holdsKey is the thread-local key of a thread that takes turns at the
// run's Starlark lock (one of on()'s hosts, or code evaluated for one):
// its *executor.Guard, which says whether it holds the lock right now and
// which the thread's context carries to the transports.
const holdsKey = "kamal.holds"

// guardOf returns thread's guard, or nil for a thread that never holds
// the Starlark lock (the main thread).
func guardOf(thread *starlark.Thread) *executor.Guard {
	g, _ := thread.Local(holdsKey).(*executor.Guard)
	return g
}

// hold makes thread wait for and hold e's Starlark lock; release ends it.
// The first hold gives thread its guard, carried by its context from then
// on.
func (e *Env) hold(thread *starlark.Thread) {
	e.starlarkMu.Lock()
	g := guardOf(thread)
	if g == nil {
		g = &executor.Guard{}
		thread.SetLocal(holdsKey, g)
		SetContext(thread, executor.WithGuard(Context(thread), g))
	}
	g.Set(true)
}

func (e *Env) release(thread *starlark.Thread) {
	guardOf(thread).Set(false)
	e.starlarkMu.Unlock()
}

// Blocking calls f, a wait that touches no Starlark value (a command, a
// prompt's input, other threads), with thread's hold on the run's
// Starlark lock given up meanwhile, so that other hosts' threads run. A
// builtin does not call it: its registration says it waits (Builtin.Waits);
// Blocking is for the runtime's own waits (the debugger's stops).
func Blocking(thread *starlark.Thread, f func()) {
	e, g := EnvOf(thread), guardOf(thread)
	if e == nil || g == nil || !g.Held() {
		f()
		return
	}
	e.release(thread)
	defer e.hold(thread)
	f()
}

// CallBack calls fn from a builtin that waits (Builtin.Waits): with the
// run's Starlark lock taken back for the call when thread takes turns at
// it, since fn runs Starlark code.
func CallBack(thread *starlark.Thread, fn starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	e, g := EnvOf(thread), guardOf(thread)
	if e == nil || g == nil || g.Held() {
		return starlark.Call(thread, fn, args, kwargs)
	}
	e.hold(thread)
	defer e.release(thread)
	return starlark.Call(thread, fn, args, kwargs)
}

// HoldLike makes t hold the run's Starlark lock when like takes turns at
// it (like being in a wait), for code that evaluates on t while like
// waits (a prompt at a stop inside on()); call the returned func when
// done.
func HoldLike(like, t *starlark.Thread) (done func()) {
	e := EnvOf(like)
	if e == nil || guardOf(like) == nil {
		return func() {}
	}
	e.hold(t)
	return func() { e.release(t) }
}

// waiting wraps the Fn of a builtin registered with Waits: fn runs with
// thread's hold on the run's Starlark lock given up, so that the other
// hosts' threads of on() run while it waits. The list, dict and set
// arguments are copied first, while the lock is still held, so that fn
// reads values no other thread changes meanwhile.
func waiting(fn Func) Func {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		e, g := EnvOf(thread), guardOf(thread)
		if e == nil || g == nil || !g.Held() {
			return fn(thread, b, args, kwargs)
		}
		args, kwargs = privateArgs(args, kwargs)
		e.release(thread)
		defer e.hold(thread)
		return fn(thread, b, args, kwargs)
	}
}

// privateArgs returns args and kwargs with every list, dict and set (at
// the top level) replaced by a copy.
func privateArgs(args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Tuple, []starlark.Tuple) {
	out := make(starlark.Tuple, len(args))
	for i, a := range args {
		out[i] = private(a)
	}
	kw := make([]starlark.Tuple, len(kwargs))
	for i, p := range kwargs {
		kw[i] = starlark.Tuple{p[0], private(p[1])}
	}
	return out, kw
}

func private(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case *starlark.List:
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			elems[i] = v.Index(i)
		}
		return starlark.NewList(elems)
	case *starlark.Dict:
		d := starlark.NewDict(v.Len())
		for _, kv := range v.Items() {
			d.SetKey(kv[0], kv[1])
		}
		return d
	case *starlark.Set:
		s := starlark.NewSet(v.Len())
		it := v.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			s.Insert(x)
		}
		return s
	}
	return v
}

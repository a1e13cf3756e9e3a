package builtins

import (
	"context"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/progress"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// NewThread returns a thread for running script code on behalf of parent:
// same Env, context, print and load functions, and cancelled when the
// run's context is. Threads are never shared between goroutines.
func NewThread(parent *starlark.Thread, name string) *starlark.Thread {
	t := &starlark.Thread{Name: name, Print: parent.Print, Load: parent.Load}
	for _, k := range inheritedLocals {
		t.SetLocal(k, parent.Local(k))
	}
	if e := EnvOf(parent); e != nil && e.Debugger != nil {
		e.Debugger.Attach(parent, t)
	}
	return t
}

// inheritedLocals are the thread-local values a thread made for a script
// shares with its parent: the run's Env and context, and starlarktest's
// reporter (stored under "Reporter"), so that a test's assert works inside
// on() (kamal build test).
var inheritedLocals = []string{envKey, contextKey, "Reporter"}

// watch cancels thread when its context ends; call the returned stop when
// the thread is done. It holds no goroutine while it waits: a thousand
// hosts' threads are a thousand watches.
func watch(thread *starlark.Thread) (stop func()) {
	ctx := Context(thread)
	unregister := context.AfterFunc(ctx, func() { thread.Cancel(ctx.Err().Error()) })
	return func() { unregister() }
}

var onGlobal = Builtin{
	Sig:   "on(hosts, fn, limit=0)",
	Doc:   "Calls fn(host) for every host in parallel, each on its own thread, and returns the results in the order of hosts. Every host runs to its end; failures are then raised together (\"Exceptions on 2 hosts: ...\"). sshkit.max_concurrent_hosts bounds the hosts in flight, and so does limit when positive (the smaller bound wins): a host starts when another has finished. Nothing is frozen: the threads take turns at running Starlark code (one at a time) while their commands run in parallel, so fn may append to the caller's lists.",
	Fn:    onBuiltin,
	Waits: true,
}

func onBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var hostsV starlark.Iterable
	var fn starlark.Callable
	var bound int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hosts", &hostsV, "fn", &fn, "limit?", &bound); err != nil {
		return nil, err
	}
	hosts, err := hostList(b.Name(), hostsV)
	if err != nil {
		return nil, err
	}
	// fn and the values it reaches are not frozen: the caller may keep
	// using them after on() returns. The hosts' threads take turns at
	// running Starlark code instead (Env.starlarkMu); their commands run
	// in parallel.
	e := EnvOf(thread)
	limit := 0
	if e != nil && e.Config != nil {
		limit = e.Config.SSHKit.MaxConcurrentHosts
	}
	if bound > 0 && (limit <= 0 || bound < limit) {
		limit = bound
	}
	var line *progress.Line
	if e != nil && e.State != nil {
		line = e.Progress
	}
	end := line.Begin(fn.Name(), len(hosts))
	defer end()
	results := make([]starlark.Value, len(hosts))
	err = sshkit.OnHosts(hosts, limit, func(i int, h string) (err error) {
		line.HostStarted()
		defer func() { line.HostFinished(err != nil) }()
		t := NewThread(thread, "on "+h)
		stop := watch(t)
		defer stop()
		if e != nil {
			e.hold(t)
			defer e.release(t)
		}
		results[i], err = starlark.Call(t, fn, starlark.Tuple{starlark.String(h)}, nil)
		if e != nil && e.Debugger != nil {
			e.Debugger.Detach(t)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range results {
		if results[i] == nil {
			results[i] = starlark.None
		}
	}
	return starlark.NewList(results), nil
}

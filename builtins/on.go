package builtins

import (
	"errors"
	"fmt"
	"sync"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/sshkit"
)

// NewThread returns a thread for running script code on behalf of parent:
// same Env, context, print and load functions, and cancelled when the
// run's context is. Threads are never shared between goroutines.
func NewThread(parent *starlark.Thread, name string) *starlark.Thread {
	t := &starlark.Thread{Name: name, Print: parent.Print, Load: parent.Load}
	for _, k := range []string{envKey, contextKey} {
		t.SetLocal(k, parent.Local(k))
	}
	if e := EnvOf(parent); e != nil && e.Debugger != nil {
		e.Debugger.Attach(parent, t)
	}
	return t
}

// watch cancels thread when its context ends; call the returned stop when
// the thread is done.
func watch(thread *starlark.Thread) (stop func()) {
	ctx := Context(thread)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			thread.Cancel(ctx.Err().Error())
		case <-done:
		}
	}()
	return func() { close(done) }
}

// on(hosts, fn) calls fn(host) for every host in parallel, each on its own
// thread, and returns their results in the order of hosts. Every host runs
// to the end even when others fail. fn's values are not frozen: the
// threads take turns at running Starlark code while their commands run in
// parallel, so fn may append to a list the caller uses afterwards; failures are then raised together in
// SSHKit's form ("Exceptions on 2 hosts: ..."). sshkit.max_concurrent_hosts
// bounds the hosts in flight (0: no bound, as Kamal).
func onBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var hostsV starlark.Iterable
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hosts", &hostsV, "fn", &fn); err != nil {
		return nil, err
	}
	var hosts []string
	seen := map[string]bool{}
	it := hostsV.Iterate()
	defer it.Done()
	var v starlark.Value
	for it.Next(&v) {
		h, ok := starlark.AsString(v)
		if !ok {
			return nil, fmt.Errorf("%s: hosts must be strings, got %s", b.Name(), v.Type())
		}
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	// fn and the values it reaches are not frozen: the caller may keep
	// using them after on() returns. The hosts' threads take turns at
	// running Starlark code instead (Env.starlarkMu); their commands run
	// in parallel.
	e := EnvOf(thread)
	limit := len(hosts)
	if e != nil && e.Config != nil && e.Config.SSHKit.MaxConcurrentHosts > 0 {
		limit = e.Config.SSHKit.MaxConcurrentHosts
	}
	sem := make(chan struct{}, max(limit, 1))
	results := make([]starlark.Value, len(hosts))
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	Blocking(thread, func() {
		for i, h := range hosts {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				t := NewThread(thread, "on "+h)
				stop := watch(t)
				defer stop()
				if e != nil {
					e.hold(t)
					defer e.release(t)
				}
				results[i], errs[i] = starlark.Call(t, fn, starlark.Tuple{starlark.String(h)}, nil)
			}()
		}
		wg.Wait()
	})

	var failed sshkit.HostErrors
	for i, err := range errs {
		if err == nil {
			continue
		}
		var he *sshkit.HostError
		if errors.As(err, &he) && he.Host == hosts[i] {
			failed = append(failed, he)
		} else {
			failed = append(failed, &sshkit.HostError{Host: hosts[i], Err: err})
		}
	}
	if len(failed) > 0 {
		return nil, failed
	}
	for i := range results {
		if results[i] == nil {
			results[i] = starlark.None
		}
	}
	return starlark.NewList(results), nil
}

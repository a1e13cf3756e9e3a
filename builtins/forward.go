package builtins

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// ForwardTimeout is how long ssh.forward waits for every host to confirm
// its forward, as Kamal's PortForwarding (30 s).
var ForwardTimeout = 30 * time.Second

// ssh.forward(hosts, port, fn) runs fn() while each host forwards its
// 127.0.0.1:port back to localhost:port on this machine, over the host's
// pooled SSH connection (Kamal 2's local registry, spec §12.3: the
// equivalent of `ssh -R 127.0.0.1:port:localhost:port`). A host may be an
// ssh:// URL (the remote builder), which connects with the URL's user and
// port. The forwards are requested in parallel; fn runs once all of them
// are established (at most ForwardTimeout) and they are cancelled when fn
// returns, whether or not it failed. fn's result is returned.
//
// Failures read as Kamal's: ` ERROR Error setting up port forwarding to
// <host>: <Class>: <message>`, then the error is raised; a forward the
// server refuses is RuntimeError `Failed to establish port forward on
// <host>`, a forward not confirmed in time RuntimeError `Timed out waiting
// for port forwarding to be established`. A dry run forwards nothing.
func sshForward(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		hostsV starlark.Iterable
		port   int
		fn     starlark.Callable
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hosts", &hostsV, "port", &port, "fn", &fn); err != nil {
		return nil, err
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("%s: invalid port %d", b.Name(), port)
	}
	hosts, err := hostList(b.Name(), hostsV)
	if err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	call := func() (starlark.Value, error) { return starlark.Call(thread, fn, nil, nil) }
	if e.Runner.DryRun || len(hosts) == 0 {
		return call()
	}
	fw, ok := e.Runner.Remote.(executor.Forwarder)
	if !ok {
		return nil, fmt.Errorf("%s: the remote transport cannot forward ports", b.Name())
	}
	local := "localhost:" + strconv.Itoa(port)
	closers, err := openForwards(Context(thread), e.Log, fw, hosts, port, func(string) string { return local })
	defer func() {
		for _, c := range closers {
			if err := c.Close(); err != nil {
				e.Log.Debugf("Cancelling port forwarding: %v", err)
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	return call()
}

// openForwards requests the forward on every host in parallel (host's
// 127.0.0.1:port to local(host) here) and waits for all of them, at most
// ForwardTimeout. It returns the forwards that
// were established, even on error, for the caller to close; a forward
// confirmed after the wait was given up is closed as soon as it arrives.
func openForwards(parent context.Context, logger *log.Logger, fw executor.Forwarder, hosts []string, port int, local func(host string) string) ([]io.Closer, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(parent, ForwardTimeout)
	defer cancel()

	type result struct {
		i   int
		c   io.Closer
		err error
	}
	results := make(chan result, len(hosts))
	for i, h := range hosts {
		go func() {
			c, err := fw.Forward(ctx, h, addr, local(h))
			results <- result{i, c, err}
		}()
	}
	var closers []io.Closer
	errs := make([]error, len(hosts))
	pending := len(hosts)
	timedOut := false
	for pending > 0 && !timedOut {
		select {
		case r := <-results:
			pending--
			if r.err != nil {
				errs[r.i] = r.err
			} else {
				closers = append(closers, r.c)
			}
		case <-ctx.Done():
			timedOut = true
		}
	}
	if pending > 0 {
		go func(n int) {
			for ; n > 0; n-- {
				if r := <-results; r.c != nil {
					r.c.Close()
				}
			}
		}(pending)
	}
	for i, err := range errs {
		if err == nil || errors.Is(err, context.DeadlineExceeded) {
			continue
		}
		host := sshkit.DisplayHost(hosts[i])
		if errors.Is(err, executor.ErrForwardRefused) {
			err = NewError("RuntimeError", "Failed to establish port forward on "+host)
		}
		logger.Log(log.Error, fmt.Sprintf("Error setting up port forwarding to %s: %s: %s", host, sshkit.ClassOf(err), err.Error()))
		return closers, err
	}
	if err := parent.Err(); err != nil {
		return closers, err
	}
	if len(closers) < len(hosts) {
		return closers, NewError("RuntimeError", "Timed out waiting for port forwarding to be established")
	}
	return closers, nil
}

// hostList reads a list of host names, dropping duplicates.
func hostList(fn string, v starlark.Iterable) ([]string, error) {
	var hosts []string
	seen := map[string]bool{}
	it := v.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		h, ok := starlark.AsString(x)
		if !ok {
			return nil, fmt.Errorf("%s: hosts must be strings, got %s", fn, x.Type())
		}
		if !seen[h] {
			seen[h] = true
			hosts = append(hosts, h)
		}
	}
	return hosts, nil
}

func init() {
	SSH.Members["forward"] = starlark.NewBuiltin("ssh.forward", sshForward)
}

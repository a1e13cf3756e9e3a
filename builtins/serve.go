package builtins

import (
	"fmt"
	"io"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/serve"
)

// ServeSaver reads images out of the local store for ssh.serve; tests
// replace it.
var ServeSaver serve.Saver = serve.DockerSave

// ssh.serve(hosts, image, port, fn) runs fn(served) while this program
// serves image, read-only, from the local Docker image store to every
// host: each host's 127.0.0.1:port is forwarded over its pooled SSH
// connection (as ssh.forward) to a registry here that holds just this
// image, so the host's dockerd can pull served.ref
// ("localhost:PORT/REPO:TAG") and fetch only the layers it lacks. The
// image is saved once (`docker image save`) into an unlinked temporary
// file and layers are streamed from there, never held in memory; requests
// from different hosts are served concurrently.
//
// served.ref is the reference to pull; served.stats(host) is what host's
// dockerd asked for so far: struct(requests, blobs, bytes) (requests 0:
// its dockerd never reached the forward). Forwards and listeners are
// closed when fn returns, fails or is interrupted. A dry run serves
// nothing and calls fn at once.
func sshServe(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		hostsV starlark.Iterable
		image  string
		port   int
		fn     starlark.Callable
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hosts", &hostsV, "image", &image, "port", &port, "fn", &fn); err != nil {
		return nil, err
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("%s: invalid port %d", b.Name(), port)
	}
	hosts, err := hostList(b.Name(), hostsV)
	if err != nil {
		return nil, err
	}
	repo, tag := servedName(image)
	served := &servedValue{ref: fmt.Sprintf("localhost:%d/%s:%s", port, repo, tag)}
	e := EnvOf(thread)
	call := func() (starlark.Value, error) { return starlark.Call(thread, fn, starlark.Tuple{served.value()}, nil) }
	if e.Runner.DryRun || len(hosts) == 0 {
		return call()
	}
	fw, ok := e.Runner.Remote.(executor.Forwarder)
	if !ok {
		return nil, fmt.Errorf("%s: the remote transport cannot forward ports", b.Name())
	}
	ctx := Context(thread)
	e.Log.Debugf("Indexing %s in the local image store", image)
	img, err := serve.Index(ctx, ServeSaver, image, "")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, NewError("RuntimeError", fmt.Sprintf("Cannot serve %s: %s", image, oneLine(err.Error())))
	}
	defer img.Close()
	e.Log.Debugf("Serving %s as %s: %d layers, manifest %s", image, served.ref, len(img.Layers()), img.Digest)
	reg, err := serve.NewRegistry(ctx, img, repo, tag, e.Log.Debugf)
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	served.reg = reg
	addrs := map[string]string{}
	for _, h := range hosts {
		if addrs[h], err = reg.Listen(h); err != nil {
			return nil, err
		}
	}
	closers, err := openForwards(ctx, e.Log, fw, hosts, port, func(h string) string { return addrs[h] })
	defer closeAll(e, closers)
	if err != nil {
		return nil, err
	}
	return call()
}

func closeAll(e *Env, closers []io.Closer) {
	for _, c := range closers {
		if err := c.Close(); err != nil {
			e.Log.Debugf("Cancelling port forwarding: %v", err)
		}
	}
}

// servedName splits a local image reference into the repository path a
// served reference uses (without the registry host) and its tag.
func servedName(image string) (repo, tag string) {
	repo, tag = image, "latest"
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo, tag = image[:i], image[i+1:]
	}
	if first, rest, ok := strings.Cut(repo, "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		repo = rest
	}
	return repo, tag
}

// oneLine keeps the last non-empty line of a (docker) message.
func oneLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// servedValue is the argument of ssh.serve's fn.
type servedValue struct {
	ref string
	reg *serve.Registry // nil in a dry run
}

func (s *servedValue) value() starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("served"), starlark.StringDict{
		"ref":   starlark.String(s.ref),
		"stats": starlark.NewBuiltin("served.stats", s.stats),
	})
}

func (s *servedValue) stats(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var host string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &host); err != nil {
		return nil, err
	}
	var st serve.HostStats
	if s.reg != nil {
		st = s.reg.Stats(host)
	}
	blobs := make([]starlark.Value, len(st.Blobs))
	for i, h := range st.Blobs {
		blobs[i] = starlark.String(h.String())
	}
	return starlarkstruct.FromStringDict(starlark.String("stats"), starlark.StringDict{
		"requests": starlark.MakeInt(st.Requests),
		"blobs":    starlark.NewList(blobs),
		"bytes":    starlark.MakeInt64(st.Bytes),
	}), nil
}

func init() {
	SSH.Members["serve"] = starlark.NewBuiltin("ssh.serve", sshServe)
}

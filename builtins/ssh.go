package builtins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	dockerssh "github.com/docker/cli/cli/connhelper/ssh"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/layercache"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/serve"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
	"github.com/kamal-go/kamal/runtime/sshurl"
)

var sshModule = Builtin{
	Sig: "ssh",
	Doc: "Commands on a server over its one SSH connection, and what else rides on that connection: port forwards and serving an image.",
	Members: []Builtin{
		{Sig: "run(host, cmd, level=\"info\", raise_on_error=True, rescue=False, stdin=None, capture=False)", Fn: sshRun, Waits: true,
			Doc: "Runs cmd on host over the host's one SSH connection, logged with \"on HOST\", returning the result struct of local.run. Failures are raised as \"Exception while executing on host HOST: ...\"."},
		{Sig: "capture(host, cmd, level=\"debug\", raise_on_error=True, rescue=False, stdin=None)", Fn: sshCapture, Waits: true,
			Doc: "Runs cmd on host and returns its stripped standard output, always a string."},
		{Sig: "forward(hosts, port, fn)", Fn: sshForward, Waits: true,
			Doc: "Calls fn() while every host forwards its 127.0.0.1:PORT back to localhost:PORT here over its SSH connection (Kamal 2's local registry; as ssh -R). A host may be an ssh://user@host:port URL. Waits at most 30 s for the forwards; errors read as Kamal's (\"Error setting up port forwarding to HOST: ...\", \"Failed to establish port forward on HOST\", \"Timed out waiting for port forwarding to be established\"). The forwards end when fn returns."},
		{Sig: "serve(hosts, image, port, fn)", Fn: sshServe, Waits: true,
			Doc: "Calls fn(served) while this program serves IMAGE from the local Docker image store, read-only (manifest and blobs; layers from the local layer cache, filled by one docker image save per image ID: x-kamal-go/serve/cache_max_mb; an IMAGE the local store lacks is looked up by name in the OCI layout a BuildKit build wrote into that cache, docker.build(layer_cache = True)), to every host at localhost:PORT through a forward of its 127.0.0.1:PORT over its SSH connection; each host's dockerd pulls served.ref (localhost:PORT/REPO:TAG) and fetches only the layers it lacks, all hosts at once. served.stats(host) is struct(requests, blobs, bytes), what that host's dockerd asked for (requests 0: it never reached the forward). A host whose forward cannot be set up does not stop the others: served.unserved(host) is then its error line as ssh.forward's (\"Error setting up port forwarding to HOST: ...\"), else \"\". served.max_hosts is x-kamal-go/serve/max_hosts, for fn to bound the hosts pulling at once (on(..., limit=)); x-kamal-go/serve/max_mb_in_flight bounds the bytes read and not yet sent, all hosts together (blob bodies, whole or one Range, go through that many MB of copy buffers). Forwards and listeners end when fn returns, fails or is interrupted. A dry run serves nothing (served.unserved is \"\" for every host)."},
		{Sig: "preconnect(hosts)", Fn: sshPreconnect,
			Doc: "Starts connecting to every host in the background and returns at once, logging nothing: the next command or forward on a host uses that connection, or raises its dial's error then. For a flow that knows which servers it needs while something local runs (the stock --serve deliver connects while it builds). A dry run connects nothing."},
		{Sig: "check_openssh(url)", Fn: sshCheckOpenSSH, Waits: true,
			Doc: "Connects to an ssh:// URL the way docker will for an ssh:// docker context (OpenSSH, the URL's user, host and port, batch mode) and runs `true`, logging nothing; raises Kamal::Cli::Build::BuildError with one line naming what to give OpenSSH when it cannot connect. A dry run checks nothing."},
	},
}

func sshRun(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return run(thread, b, args, kwargs, true, false)
}

func sshCapture(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return run(thread, b, args, kwargs, true, true)
}

// ForwardTimeout is how long ssh.forward waits for every host to confirm
// its forward, as Kamal's PortForwarding (30 s).
var ForwardTimeout = 30 * time.Second

// sshForward is the remote port forward a remote host pulls the local
// registry through. The forwards are requested in
// parallel (openForwards); fn's result is returned.
func sshForward(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var (
		hostsV starlark.Iterable
		port   int
		fn     starlark.Callable
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hosts", &hostsV, "port", &port, "fn", &fn); err != nil {
		return nil, err
	}
	hosts, err := forwardHosts(b.Name(), hostsV, port)
	if err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	call := func() (starlark.Value, error) { return CallBack(thread, fn, nil, nil) }
	if e.Flags.DryRun || len(hosts) == 0 {
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
// ForwardTimeout, as Kamal's PortForwarding: the first host that failed
// is logged and its error returned. It returns the forwards that were
// established, even on error, for the caller to close.
func openForwards(parent context.Context, logger *log.Logger, fw executor.Forwarder, hosts []string, port int, local func(host string) string) ([]io.Closer, error) {
	closers, errs := requestForwards(parent, fw, hosts, port, local)
	for i, err := range errs {
		if err == nil || errors.Is(err, errForwardTimedOut) {
			continue
		}
		host := sshkit.DisplayHost(hosts[i])
		if errors.Is(err, executor.ErrForwardRefused) {
			err = kamalerr.New(kamalerr.ClassRuntime, "Failed to establish port forward on "+host)
		}
		logger.Log(log.Error, forwardError(host, err))
		return closers, err
	}
	if err := parent.Err(); err != nil {
		return closers, err
	}
	if len(closers) < len(hosts) {
		return closers, kamalerr.New(kamalerr.ClassRuntime, "Timed out waiting for port forwarding to be established")
	}
	return closers, nil
}

// forwardError is Kamal's line for a forward that could not be set up.
func forwardError(host string, err error) string {
	return fmt.Sprintf("Error setting up port forwarding to %s: %s: %s", host, sshkit.ClassOf(err), err.Error())
}

// errForwardTimedOut is the error of a host whose forward was not
// confirmed within ForwardTimeout.
var errForwardTimedOut = errors.New("timed out waiting for port forwarding to be established")

// requestForwards requests the forward on every host in parallel and
// waits for all of them, at most ForwardTimeout. It returns the forwards
// established, for the caller to close, and each host's error (nil:
// forwarded; errForwardTimedOut: not confirmed in time, or parent ended
// first). A forward confirmed after the wait was given up is closed as
// soon as it arrives.
func requestForwards(parent context.Context, fw executor.Forwarder, hosts []string, port int, local func(host string) string) ([]io.Closer, []error) {
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
	done := make([]bool, len(hosts))
	pending := len(hosts)
	for timedOut := false; pending > 0 && !timedOut; {
		select {
		case r := <-results:
			pending--
			done[r.i] = true
			if r.err != nil && !errors.Is(r.err, context.DeadlineExceeded) {
				errs[r.i] = r.err
			} else if r.err != nil {
				errs[r.i] = errForwardTimedOut
			} else {
				closers = append(closers, r.c)
			}
		case <-ctx.Done():
			timedOut = true
		}
	}
	for i := range done {
		if !done[i] {
			errs[i] = errForwardTimedOut
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
	return closers, errs
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

// ServeSaver reads images out of the local store for ssh.serve; nil (the
// default) runs docker image save through the run's local transport
// (localSave); tests replace it.
var ServeSaver serve.Saver

// localSave is the Saver that streams `docker image save IMAGE` from the
// local transport, as every process a step runs goes: with the run's
// context, in a process group a second Ctrl-C kills, refused while the
// Starlark lock is held. Closing the stream before its end stops the save
// and waits for it.
func localSave(local executor.Transport) serve.Saver {
	return func(ctx context.Context, image string) (io.ReadCloser, error) {
		ctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			var stderr bytes.Buffer
			status, err := local.Run(ctx, "", executor.Request{Script: "docker image save " + shell.Quote(image), Stdout: pw, Stderr: &stderr})
			msg := strings.TrimSpace(stderr.String())
			switch {
			case err != nil:
				pw.CloseWithError(fmt.Errorf("docker image save %s: %w", image, err))
			case status != 0 && msg != "":
				pw.CloseWithError(fmt.Errorf("docker image save %s: %s", image, msg))
			case status != 0:
				pw.CloseWithError(fmt.Errorf("docker image save %s: exit status %d", image, status))
			default:
				pw.Close()
			}
		}()
		return &savedStream{PipeReader: pr, stop: func() { cancel(); pr.Close(); <-done }}, nil
	}
}

// savedStream is localSave's stream.
type savedStream struct {
	*io.PipeReader
	stop func()
}

// Close stops the save if it is still running and waits for it.
func (s *savedStream) Close() error {
	s.stop()
	return nil
}

// indexServed indexes image for ssh.serve: through the layer cache
// (x-kamal-go/serve/cache_max_mb, in the user's cache directory), so that
// an image ID indexed before needs no docker image save; with the cache
// off or its directory unusable, one save spooled to an unlinked file.
func indexServed(ctx context.Context, e *Env, image string) (*serve.Image, error) {
	saver := ServeSaver
	if saver == nil {
		saver = localSave(e.Runner.Local)
	}
	cache, _, err := openLayerCache(e)
	if err != nil {
		e.Log.Debugf("Serving %s without the layer cache: %v", image, err)
	}
	if cache == nil {
		return serve.Index(ctx, saver, image, "")
	}
	return serve.IndexCached(ctx, saver, image, serve.CacheOptions{Cache: cache, ID: localImageID(e.Runner.Local), Debugf: e.Log.Debugf})
}

// openLayerCache opens --serve's layer cache, the one place that says
// where it is (layercache.Dir) and how large it may grow
// (x-kamal-go/serve/cache_max_mb, config.DefaultCacheMaxMB without a
// config), and returns it with its directory: nil, "", nil when the
// setting is 0.
func openLayerCache(e *Env) (*layercache.Cache, string, error) {
	mb := config.DefaultCacheMaxMB
	if e.Config != nil {
		mb = e.Config.Serve.CacheMaxMB
	}
	if mb == 0 {
		return nil, "", nil
	}
	dir, err := layercache.Dir()
	if err != nil {
		return nil, "", err
	}
	c, err := layercache.Open(dir, int64(mb)<<20)
	if err != nil {
		return nil, "", err
	}
	return c, dir, nil
}

// localImageID reads a local image's ID (docker image inspect) through the
// local transport, as localSave runs the save.
func localImageID(local executor.Transport) func(context.Context, string) (string, error) {
	return func(ctx context.Context, image string) (string, error) {
		var stdout, stderr bytes.Buffer
		script := "docker image inspect --format " + shell.Quote("{{.Id}}") + " " + shell.Quote(image)
		status, err := local.Run(ctx, "", executor.Request{Script: script, Stdout: &stdout, Stderr: &stderr})
		switch {
		case err != nil:
			return "", fmt.Errorf("docker image inspect %s: %w", image, err)
		case status != 0:
			return "", fmt.Errorf("docker image inspect %s: %s", image, oneLine(strings.TrimSpace(stderr.String())))
		}
		return strings.TrimSpace(stdout.String()), nil
	}
}

// sshServe indexes the image (indexServed: the layer cache, or one
// `docker image save`) and streams layers from files, never holding them
// in memory; each host's forward leads to its own listener of one
// registry (runtime/serve), so that its requests can be counted.
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
	hosts, err := forwardHosts(b.Name(), hostsV, port)
	if err != nil {
		return nil, err
	}
	repo, tag := servedName(image)
	served := &servedValue{ref: fmt.Sprintf("localhost:%d/%s:%s", port, repo, tag),
		maxHosts: config.DefaultServeMaxHosts, maxMBInFlight: config.DefaultServeMaxMBInFlight}
	e := EnvOf(thread)
	if e.Config != nil {
		served.maxHosts, served.maxMBInFlight = e.Config.Serve.MaxHosts, e.Config.Serve.MaxMBInFlight
	}
	call := func() (starlark.Value, error) { return CallBack(thread, fn, starlark.Tuple{served.value()}, nil) }
	if e.Flags.DryRun || len(hosts) == 0 {
		return call()
	}
	fw, ok := e.Runner.Remote.(executor.Forwarder)
	if !ok {
		return nil, fmt.Errorf("%s: the remote transport cannot forward ports", b.Name())
	}
	ctx := Context(thread)
	// The forwards (SSH connections included) are set up while the image
	// is indexed: each leads to a listener of this program's own, which
	// the registry takes over once it exists.
	fwds, err := startServeForwards(ctx, fw, hosts, port)
	if err != nil {
		return nil, err
	}
	defer fwds.close(e)
	e.Log.Debugf("Indexing %s in the local image store", image)
	img, err := indexServed(ctx, e, image)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, kamalerr.New(kamalerr.ClassRuntime, fmt.Sprintf("Cannot serve %s: %s", image, oneLine(err.Error())))
	}
	defer img.Close()
	e.Log.Debugf("Serving %s as %s: %d layers, manifest %s", image, served.ref, len(img.Layers()), img.Digest)
	reg, err := serve.NewRegistry(ctx, img, repo, tag, e.Log.Debugf)
	if err != nil {
		return nil, err
	}
	defer reg.Close()
	reg.SetMaxInFlight(int64(served.maxMBInFlight) << 20)
	served.reg = reg
	if served.unserved, err = fwds.handOver(ctx, e, reg); err != nil {
		return nil, err
	}
	return call()
}

// serveForwards are the forwards of one ssh.serve, requested while the
// image is indexed, each to a listener of its host opened beforehand.
type serveForwards struct {
	hosts     []string
	listeners []net.Listener // nil once handed to the registry
	done      chan struct{}  // closed when requestForwards returned
	cancel    context.CancelFunc
	closers   []io.Closer
	errs      []error
}

// startServeForwards opens a listener per host here and requests every
// host's forward to it in the background; call close when done with them.
func startServeForwards(ctx context.Context, fw executor.Forwarder, hosts []string, port int) (*serveForwards, error) {
	f := &serveForwards{hosts: hosts, done: make(chan struct{})}
	addrs := map[string]string{}
	for _, h := range hosts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			f.closeListeners()
			return nil, fmt.Errorf("serving to %s: %w", h, err)
		}
		f.listeners = append(f.listeners, ln)
		addrs[h] = ln.Addr().String()
	}
	ctx, f.cancel = context.WithCancel(ctx)
	go func() {
		defer close(f.done)
		f.closers, f.errs = requestForwards(ctx, fw, hosts, port, func(h string) string { return addrs[h] })
	}()
	return f, nil
}

// handOver gives every listener to reg, waits for the forwards and
// returns, per host whose forward failed, its error line.
func (f *serveForwards) handOver(ctx context.Context, e *Env, reg *serve.Registry) (map[string]string, error) {
	for i, h := range f.hosts {
		ln := f.listeners[i]
		f.listeners[i] = nil
		if err := reg.Serve(h, ln); err != nil {
			return nil, err
		}
	}
	<-f.done
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	unserved := map[string]string{}
	for i, err := range f.errs {
		if err == nil {
			continue
		}
		host := sshkit.DisplayHost(f.hosts[i])
		if errors.Is(err, executor.ErrForwardRefused) {
			err = kamalerr.New(kamalerr.ClassRuntime, fmt.Sprintf("Failed to establish port forward on %s (%v)", host, err))
		}
		unserved[f.hosts[i]] = forwardError(host, err)
		e.Log.Debugf("Not serving %s: %s", host, unserved[f.hosts[i]])
	}
	return unserved, nil
}

// close stops the forwards still being requested, closes those
// established and the listeners not handed over.
func (f *serveForwards) close(e *Env) {
	f.cancel()
	<-f.done
	closeAll(e, f.closers)
	f.closeListeners()
}

func (f *serveForwards) closeListeners() {
	for _, ln := range f.listeners {
		if ln != nil {
			ln.Close()
		}
	}
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
	ref           string
	reg           *serve.Registry   // nil in a dry run
	unserved      map[string]string // host -> why it cannot be served (its forward failed); read-only once fn runs
	maxHosts      int               // x-kamal-go/serve/max_hosts
	maxMBInFlight int               // x-kamal-go/serve/max_mb_in_flight
}

func (s *servedValue) value() starlark.Value {
	return starlarkstruct.FromStringDict(starlark.String("served"), starlark.StringDict{
		"ref":       starlark.String(s.ref),
		"stats":     starlark.NewBuiltin("served.stats", s.stats),
		"unserved":  starlark.NewBuiltin("served.unserved", s.unservedReason),
		"max_hosts": starlark.MakeInt(s.maxHosts),
	})
}

// unservedReason is served.unserved(host): "" when host's forward is up,
// else Kamal's line for the forward that failed.
func (s *servedValue) unservedReason(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var host string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &host); err != nil {
		return nil, err
	}
	return starlark.String(s.unserved[host]), nil
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

// sshPreconnect starts the hosts' dials (executor.Preconnector); with a
// transport that cannot, it does nothing: the first command dials.
func sshPreconnect(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var hostsV starlark.Iterable
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &hostsV); err != nil {
		return nil, err
	}
	hosts, err := hostList(b.Name(), hostsV)
	if err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	if p, ok := e.Runner.Remote.(executor.Preconnector); ok && !e.Flags.DryRun {
		for _, h := range hosts {
			p.Preconnect(h)
		}
	}
	return starlark.None, nil
}

// OpenSSHCheckTimeout bounds ssh.check_openssh's connection, as docker's
// own ConnectTimeout for ssh:// hosts.
var OpenSSHCheckTimeout = 30 * time.Second

// sshCheckOpenSSH uses the OpenSSH client docker will use (ssh on PATH,
// reading the user's ~/.ssh/config and agent) with the arguments
// docker/cli's connhelper builds, in batch mode so that nothing prompts.
// kamal's own connection (ssh.keys, key_data) is no help to docker.
func sshCheckOpenSSH(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var url string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &url); err != nil {
		return nil, err
	}
	if _, err := sshurl.Parse(url); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if EnvOf(thread).Flags.DryRun {
		return starlark.None, nil
	}
	sp, err := dockerssh.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	argv := append([]string{"-o", "BatchMode=yes", "-o", fmt.Sprintf("ConnectTimeout=%d", int(OpenSSHCheckTimeout.Seconds())), "-T"}, sp.Args("true")...)
	ctx, cancel := context.WithTimeout(Context(thread), OpenSSHCheckTimeout+5*time.Second)
	defer cancel()
	words := make([]string, 0, len(argv)+1)
	for _, w := range append([]string{"ssh"}, argv...) {
		words = append(words, shell.Quote(w))
	}
	var stderr bytes.Buffer
	// Through the local transport, unlogged: Kamal logs no such command.
	status, err := EnvOf(thread).Runner.Local.Run(ctx, "", executor.Request{Script: strings.Join(words, " "), Stdout: io.Discard, Stderr: &stderr})
	if err != nil || status != 0 {
		why := oneLine(stderr.String())
		if why == "" && err != nil {
			why = err.Error()
		} else if why == "" {
			why = fmt.Sprintf("exit status %d", status)
		}
		return nil, kamalerr.New(kamalerr.ClassBuild, fmt.Sprintf(
			"docker reaches the remote builder %s through OpenSSH, which cannot connect (ssh %s: %s): give OpenSSH the key with ssh-agent (ssh-add) or a Host entry with User, Port and IdentityFile in ~/.ssh/config",
			url, strings.Join(argv, " "), why))
	}
	return starlark.None, nil
}

// forwardHosts checks the hosts and the port of a remote forward.
func forwardHosts(name string, hostsV starlark.Iterable, port int) ([]string, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("%s: invalid port %d", name, port)
	}
	return hostList(name, hostsV)
}

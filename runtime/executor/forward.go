package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Forwarder is a transport that can forward a port of a host back to this
// machine, as `ssh -R` does.
type Forwarder interface {
	// Forward asks host to listen on remoteAddr ("127.0.0.1:5000") and
	// connects every connection accepted there to localAddr on this
	// machine ("localhost:5000"). The forward lasts until the returned
	// Closer is closed (or the connection breaks).
	Forward(ctx context.Context, host, remoteAddr, localAddr string) (io.Closer, error)
}

var _ Forwarder = (*SSH)(nil)

// ErrForwardRefused is the error of a forward the server declined (port
// in use on the server, forwarding disabled by sshd_config).
var ErrForwardRefused = errors.New("remote port forward refused")

// localDialTimeout bounds each connection to the local end of a forward.
const localDialTimeout = 10 * time.Second

// Forward implements Forwarder over host's pooled connection (dialled if
// needed): a tcpip-forward request, then one forwarded-tcpip channel per
// connection the server accepts, each piped to a new local connection.
func (s *SSH) Forward(ctx context.Context, host, remoteAddr, localAddr string) (io.Closer, error) {
	if err := Refuse(ctx, "a port forward on "+host); err != nil {
		return nil, err
	}
	t, err := s.parseHost(host)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	c, err := s.get(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("ssh %s: %w", host, err)
	}
	ln, err := c.client.Listen("tcp", remoteAddr)
	if err != nil {
		if isClosed(c.dead) {
			return nil, fmt.Errorf("ssh %s: connection lost: %w", host, err)
		}
		return nil, fmt.Errorf("ssh %s: %w: listening on %s: %v", host, ErrForwardRefused, remoteAddr, err)
	}
	f := &forward{ln: ln, local: localAddr, conns: map[net.Conn]bool{}, debugf: s.cfg.Debugf, name: host}
	f.wg.Add(1)
	go f.serve()
	return f, nil
}

// forward is one remote listener and the connections it carries.
type forward struct {
	ln     net.Listener
	local  string
	name   string
	debugf func(string, ...any)

	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
}

func (f *forward) serve() {
	defer f.wg.Done()
	for {
		rc, err := f.ln.Accept()
		if err != nil {
			return // closed, or the connection broke
		}
		if !f.track(rc) {
			rc.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer f.untrack(rc)
			lc, err := net.DialTimeout("tcp", f.local, localDialTimeout)
			if err != nil {
				f.debugf("forward from %s: connecting to %s: %v", f.name, f.local, err)
				return
			}
			if !f.track(lc) {
				lc.Close()
				return
			}
			defer f.untrack(lc)
			pipe(rc, lc)
		}()
	}
}

func (f *forward) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = true
	return true
}

func (f *forward) untrack(c net.Conn) {
	c.Close()
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
}

// forwardDrainTimeout bounds how long Close waits for the connections it
// ended: a write into a channel whose server end no longer reads (its
// local consumer is stopped, so sshd never confirms the close) blocks
// until the SSH connection itself goes, which Close must not wait for.
var forwardDrainTimeout = 5 * time.Second

// Close cancels the forward on the server, ends the connections it
// carries and waits for them, at most forwardDrainTimeout (a connection
// still blocked then ends with the SSH connection).
func (f *forward) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	conns := make([]net.Conn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	err := f.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(forwardDrainTimeout):
		f.debugf("forward from %s: connections still blocked after %v; they end with the SSH connection", f.name, forwardDrainTimeout)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		err = nil // the connection went first: nothing left to cancel
	}
	return err
}

// The copy buffers of each forwarded connection, one per direction, held
// for the connection's life. forwardSendBuffer carries what this machine
// sends to the server (a served image's layers): with 128 KiB, a 1 GiB
// layer went through one forward 1.23x faster than with 32 KiB (the
// previous io.Copy's) and at 1.23x `ssh -R`'s throughput; a hundred hosts
// cost at most about 10 MiB more at the peak (BenchmarkForwardLayer,
// tests/bench/serve-scale; docs/performance.md). forwardReceiveBuffer
// carries the server's side (dockerd's requests; a remote builder's push
// into a local registry), as before.
var (
	forwardSendBuffer    = 128 << 10
	forwardReceiveBuffer = 32 << 10
)

// pipe copies both ways between a forwarded channel (remote) and its local
// connection until both directions are done, passing on half-closes where
// the connection types allow.
func pipe(remote, local net.Conn) {
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn, size int) {
		defer wg.Done()
		// Hidden ReaderFrom/WriterTo: net's would pick their own buffer.
		io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, make([]byte, size))
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		} else {
			dst.Close()
		}
	}
	wg.Add(2)
	go cp(remote, local, forwardSendBuffer)
	go cp(local, remote, forwardReceiveBuffer)
	wg.Wait()
}

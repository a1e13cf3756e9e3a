package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// connect establishes an authenticated connection to t, through the jump
// host if one is configured, retrying throttled starts (refused or reset
// connections, DNS failures) with backoff. It is bounded by the pool's
// life (Close aborts it) and, per attempt, by ConnectTimeout.
func (s *SSH) connect(t *target) (*ssh.Client, *endWatch, *conn, error) {
	if err := s.auth.prepare(t); err != nil {
		return nil, nil, nil, err
	}
	if t.forwardAgent && t.agentSock == "" {
		return nil, nil, nil, errors.New("forward_agent: there is no ssh-agent to forward (SSH_AUTH_SOCK is not set)")
	}
	for attempt := 0; ; attempt++ {
		var via *conn
		if t.via != nil {
			// Fetched per attempt: a jump connection that broke meanwhile
			// is replaced.
			pc, err := s.get(s.ctx, t.via)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("%s: %w", t.via.name, err)
			}
			via = pc
		}
		client, watch, err := s.connectOnce(t, via)
		if err == nil {
			if t.forwardAgent {
				if err := agent.ForwardToRemote(client, t.agentSock); err != nil {
					client.Close()
					return nil, nil, nil, fmt.Errorf("forward_agent: %w", err)
				}
			}
			return client, watch, via, nil
		}
		kind := retryKind(err)
		if kind == "" || attempt >= s.cfg.Retries || s.ctx.Err() != nil {
			return nil, nil, nil, err
		}
		delay := backoff(attempt)
		s.cfg.Debugf("Retrying %s for %s (attempt %d/%d) in %.2fs: %v", kind, t.name, attempt+1, s.cfg.Retries, delay.Seconds(), err)
		select {
		case <-time.After(delay):
		case <-s.ctx.Done():
			return nil, nil, nil, ErrClosed
		}
	}
}

// backoff is 0.1s·2^attempt capped at 2s, plus up to 50% jitter.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << attempt
	if d > 2*time.Second || d <= 0 {
		d = 2 * time.Second
	}
	return d + rand.N(d/2+1)
}

// retryKind says whether err is worth retrying: "DNS" for resolver
// failures, "connection" for refused or reset connections, EOF during the
// handshake (sshd dropping starts beyond MaxStartups) and a jump host that
// could not connect; "" otherwise.
func retryKind(err error) string {
	var dnsErr *net.DNSError
	var openErr *ssh.OpenChannelError
	switch {
	case errors.As(err, &dnsErr):
		return "DNS"
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "ssh connection"
	case errors.As(err, &openErr) && openErr.Reason == ssh.ConnectionFailed:
		return "ssh connection"
	}
	return ""
}

// connectOnce makes one attempt: TCP connect (directly or through via),
// SSH handshake and authentication, holding a start slot throughout. The
// endWatch is the client's socket, reporting the connection's end.
func (s *SSH) connectOnce(t *target, via *conn) (*ssh.Client, *endWatch, error) {
	select {
	case s.starts <- struct{}{}:
	case <-s.ctx.Done():
		return nil, nil, ErrClosed
	}
	defer func() { <-s.starts }()

	ctx, cancel := context.WithTimeout(s.ctx, t.connectTimeout)
	defer cancel()
	s.dials.Add(1)
	var nc net.Conn
	var err error
	switch {
	case t.proxyCommand != "":
		nc, err = dialCommand(t.proxyCommand, t.hostport)
	case via != nil:
		via.touch()
		nc, err = via.client.DialContext(ctx, "tcp", t.hostport)
		if err != nil {
			err = fmt.Errorf("connecting to %s through %s: %w", t.hostport, t.via.name, err)
		}
	default:
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", t.hostport)
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return nil, nil, ErrClosed
		}
		return nil, nil, err
	}
	// The handshake has no context: closing the socket aborts it.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	defer stop()

	method, tried := s.auth.method(t)
	cfg := &ssh.ClientConfig{
		User:              t.user,
		Auth:              []ssh.AuthMethod{method},
		HostKeyCallback:   s.hostKeys.callback(t),
		HostKeyAlgorithms: s.hostKeys.algorithms(t),
	}
	watch := &endWatch{Conn: nc}
	sc, chans, reqs, err := ssh.NewClientConn(watch, t.hostport, cfg)
	if err != nil {
		switch {
		case s.ctx.Err() != nil:
			return nil, nil, ErrClosed
		case ctx.Err() != nil:
			return nil, nil, fmt.Errorf("ssh handshake with %s: timed out after %v", nc.RemoteAddr(), t.connectTimeout)
		}
		if cc, ok := nc.(*cmdConn); ok {
			if f := cc.failure(); f != "" {
				return nil, nil, fmt.Errorf("ssh handshake with %s: %s", t.hostport, f)
			}
		}
		return nil, nil, handshakeError(err, nc.RemoteAddr(), t.user, tried)
	}
	if !stop() {
		sc.Close()
		return nil, nil, ErrClosed
	}
	return ssh.NewClient(sc, chans, reqs), watch, nil
}

// handshakeError gives x/crypto's handshake errors context: host key
// errors as they are, authentication failures with the keys offered, the
// rest with the address.
func handshakeError(err error, remote net.Addr, user string, tried func() string) error {
	var hk *hostKeyError
	if errors.As(err, &hk) {
		return hk
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("authentication failed for user %s (tried keys: %s)", user, tried())
	}
	inner := errors.Unwrap(err)
	if inner == nil {
		inner = err
	}
	return fmt.Errorf("ssh handshake with %s: %w", remote, inner)
}

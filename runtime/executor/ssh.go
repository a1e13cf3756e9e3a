package executor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHConfig configures an SSH pool. Zero fields take the defaults noted.
type SSHConfig struct {
	User string // default "root"
	Port int    // default 22; a host given as "name:port" overrides it
	// Keys are private key files (Kamal's ssh.keys, "~/" expanded). A file
	// that cannot be read is an error naming it, returned by every Run.
	Keys []string
	// KeyData are PEM private keys (ssh.key_data).
	KeyData [][]byte
	// KeysOnly offers only Keys and KeyData: no ssh-agent, no default keys.
	KeysOnly bool
	// Proxy is a jump host "user@host[:port]" (ssh.proxy); user defaults
	// to root and port to 22. Its connection is pooled like the others.
	Proxy string
	// KnownHostsFile records host keys; default ~/.ssh/known_hosts.
	KnownHostsFile string
	// MaxConcurrentStarts bounds connection handshakes in flight at once
	// (sshkit.max_concurrent_starts), default 30, below OpenSSH's default
	// MaxStartups of 10:30:100 random-drop ceiling.
	MaxConcurrentStarts int
	// MaxSessions bounds concurrent sessions (commands) per connection,
	// default 10 (OpenSSH's MaxSessions).
	MaxSessions int
	// ConnectTimeout bounds each connection attempt (TCP connect,
	// handshake, authentication), default 30s.
	ConnectTimeout time.Duration
	// Keepalive is the interval of keepalive@openssh.com requests, default
	// 30s; negative disables them. A connection that leaves
	// keepaliveMaxMissed of them unanswered in a row is closed.
	Keepalive time.Duration
	// Retries is how many times a connection attempt refused or reset
	// (sshd throttling starts) or failing DNS is retried, with backoff
	// 0.1s·2^n capped at 2s plus jitter; default 3, negative means none.
	Retries int
	// Debugf receives retry notices and other diagnostics; nil drops them.
	Debugf func(format string, args ...any)
}

const keepaliveMaxMissed = 3

// cancelDrain is how long Run waits, after signalling and closing a
// cancelled session, for the server to close the channel and the output
// to drain before it returns anyway. OpenSSH keeps a channel open until
// its command exits, and refuses signals in some setups (forced commands,
// "session signalling requires privilege separation"), so this must stay
// short; the session slot is released whenever the channel really closes.
const cancelDrain = 200 * time.Millisecond

// withDefaults fills in the documented defaults.
func (c SSHConfig) withDefaults() SSHConfig {
	if c.User == "" {
		c.User = "root"
	}
	if c.Port == 0 {
		c.Port = 22
	}
	if c.KnownHostsFile == "" {
		if home, err := os.UserHomeDir(); err == nil {
			c.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
		} else {
			c.KnownHostsFile = filepath.Join(".ssh", "known_hosts")
		}
	}
	c.KnownHostsFile = expandHome(c.KnownHostsFile)
	if c.MaxConcurrentStarts <= 0 {
		c.MaxConcurrentStarts = 30
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 30 * time.Second
	}
	if c.Keepalive == 0 {
		c.Keepalive = 30 * time.Second
	}
	switch {
	case c.Retries == 0:
		c.Retries = 3
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.Debugf == nil {
		c.Debugf = func(string, ...any) {}
	}
	return c
}

// SSH is a pool of SSH connections, one per host, and a Transport running
// each command as a new session on its host's connection.
//
// The connection to a host is dialled on first use; concurrent first uses
// share one dial, whose failure is reported to all of them (a later Run
// dials again). Connections are kept until Close, or until they break
// (a later Run then dials a new one; a command whose session could not
// even be opened on a broken connection is retried once on a new one).
// At most MaxSessions commands run at once on a connection; further ones
// wait. While a command runs, the session of the host's next command is
// opened ahead (within MaxSessions), so that a command on a warm connection
// waits only for its own exec. SSH is safe for concurrent use.
type SSH struct {
	cfg      SSHConfig
	auth     *authSource
	hostKeys *hostKeys
	starts   chan struct{} // connection-start semaphore
	proxy    *target       // nil without a jump host

	ctx    context.Context // cancelled by Close; aborts dials in flight
	cancel context.CancelFunc

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool

	dials, connections atomic.Int64
}

var _ Transport = (*SSH)(nil)

// conn is one pooled connection, possibly still being dialled.
type conn struct {
	key      string
	ready    chan struct{} // closed when the dial has finished (client or err set)
	client   *ssh.Client
	err      error
	sessions chan struct{} // session semaphore
	dead     chan struct{} // closed once the connection is closed
	// spare holds at most one session opened ahead of need, holding one
	// of the session slots, so that the next command skips the open
	// round trip (see refill); refilling is set while one is being opened.
	spare     chan *ssh.Session
	refilling atomic.Bool
}

// Stats counts the pool's connection work.
type Stats struct {
	Dials       int64 // TCP connection attempts, retries included
	Connections int64 // SSH connections established (authenticated)
	Open        int   // connections currently pooled and alive
}

// target is a parsed host.
type target struct {
	name     string // as given, for messages ("server1", "server1:2222")
	user     string
	hostport string // "server1:22": dialled and used for known_hosts
	key      string // pool key
}

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("ssh pool closed")

// NewSSH returns a pool using cfg. It does not connect anywhere; key files
// are read on first use.
func NewSSH(cfg SSHConfig) *SSH {
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &SSH{
		cfg:      cfg,
		auth:     &authSource{cfg: &cfg, debugf: cfg.Debugf},
		hostKeys: &hostKeys{path: cfg.KnownHostsFile, debugf: cfg.Debugf},
		starts:   make(chan struct{}, cfg.MaxConcurrentStarts),
		ctx:      ctx,
		cancel:   cancel,
		conns:    map[string]*conn{},
	}
	if cfg.Proxy != "" {
		p := parseProxy(cfg.Proxy)
		s.proxy = &p
	}
	return s
}

// parseHost turns "name" or "name:port" (or "[v6]:port") into a target.
// A host given as an SSH URL, "ssh://[user@]name[:port]" (Kamal's remote
// builder), connects with the URL's user and port where it has them.
func (s *SSH) parseHost(host string) (target, error) {
	if strings.HasPrefix(host, "ssh://") {
		return s.parseURL(host)
	}
	name, port := host, s.cfg.Port
	if h, p, err := net.SplitHostPort(host); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return target{}, fmt.Errorf("invalid port in host %q", host)
		}
		name, port = h, n
	}
	if name == "" {
		return target{}, fmt.Errorf("empty host name")
	}
	hp := net.JoinHostPort(name, strconv.Itoa(port))
	return target{name: host, user: s.cfg.User, hostport: hp, key: s.cfg.User + "@" + hp}, nil
}

// parseURL parses an ssh:// host: user and port default to the pool's.
func (s *SSH) parseURL(host string) (target, error) {
	u, err := url.Parse(host)
	if err != nil || u.Hostname() == "" || (u.Path != "" && u.Path != "/") {
		return target{}, fmt.Errorf("invalid ssh URL %q", host)
	}
	user, port := s.cfg.User, s.cfg.Port
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return target{}, fmt.Errorf("invalid port in host %q", host)
		}
		port = n
	}
	hp := net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	name := u.Hostname()
	if u.Port() != "" {
		name = u.Host
	}
	return target{name: name, user: user, hostport: hp, key: user + "@" + hp}, nil
}

// parseProxy parses "user@host[:port]" with Kamal's defaults.
func parseProxy(spec string) target {
	user, hostport := "root", spec
	if i := strings.LastIndex(spec, "@"); i >= 0 {
		user, hostport = spec[:i], spec[i+1:]
	}
	name, port := hostport, "22"
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		name, port = h, p
	}
	hp := net.JoinHostPort(name, port)
	return target{name: "proxy " + spec, user: user, hostport: hp, key: "proxy " + user + "@" + hp}
}

// Stats returns the pool's counters.
func (s *SSH) Stats() Stats {
	st := Stats{Dials: s.dials.Load(), Connections: s.connections.Load()}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		select {
		case <-c.ready:
			if c.client != nil && !isClosed(c.dead) {
				st.Open++
			}
		default:
		}
	}
	return st
}

// Close closes every connection and aborts dials in flight. Commands
// running on them end with an error. Run returns ErrClosed afterwards.
func (s *SSH) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.cancel()
	conns := s.conns
	s.conns = map[string]*conn{}
	s.mu.Unlock()
	for _, c := range conns {
		select {
		case <-c.ready:
			if c.client != nil {
				c.client.Close()
			}
		default: // the dialler sees s.closed and closes what it gets
		}
	}
	return nil
}

// Run runs req.Script on host through the host's pooled connection and
// returns its exit status. Env and Dir are ignored (the script runs in the
// login directory of the SSH user, through the server's shell).
//
// Errors name the host: "ssh server2: dial tcp 127.0.0.12:22: connect:
// connection refused". A connection lost mid-command, or a session that
// ends without an exit status, is an error. On ctx cancellation the
// session is sent SIGINT and closed, and the error wraps ctx.Err(). A
// command killed by a signal reports 128+signal.
func (s *SSH) Run(ctx context.Context, host string, req Request) (int, error) {
	t, err := s.parseHost(host)
	if err != nil {
		return -1, fmt.Errorf("ssh %s: %w", host, err)
	}
	if err := s.auth.load(); err != nil {
		return -1, fmt.Errorf("ssh %s: %w", host, err)
	}
	for attempt := 0; ; attempt++ {
		c, err := s.get(ctx, t)
		if err != nil {
			return -1, fmt.Errorf("ssh %s: %w", host, err)
		}
		status, err := s.runOn(ctx, c, req)
		var broken *brokenConnError
		if errors.As(err, &broken) && attempt == 0 {
			s.cfg.Debugf("ssh %s: connection unusable (%v): reconnecting", host, broken.err)
			s.drop(c)
			continue
		}
		if err != nil {
			return status, fmt.Errorf("ssh %s: %w", host, err)
		}
		return status, nil
	}
}

// get returns t's connection, dialling it (once, shared by concurrent
// callers) if there is none. ctx only bounds the wait: the dial itself
// goes on for other waiters and later callers.
func (s *SSH) get(ctx context.Context, t target) (*conn, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	c := s.conns[t.key]
	if c != nil && isClosed(c.dead) {
		delete(s.conns, t.key)
		c = nil
	}
	if c == nil {
		c = &conn{
			key:      t.key,
			ready:    make(chan struct{}),
			sessions: make(chan struct{}, s.cfg.MaxSessions),
			dead:     make(chan struct{}),
			spare:    make(chan *ssh.Session, 1),
		}
		s.conns[t.key] = c
		go s.establish(c, t)
	}
	s.mu.Unlock()

	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for connection: %w", ctx.Err())
	}
	if c.err != nil {
		return nil, c.err
	}
	return c, nil
}

// establish dials c and publishes the outcome. A failed dial is removed
// from the pool so that a later get dials again.
func (s *SSH) establish(c *conn, t target) {
	client, err := s.connect(t)
	s.mu.Lock()
	if err == nil && s.closed {
		client.Close()
		client, err = nil, ErrClosed
	}
	c.client, c.err = client, err
	if err != nil {
		close(c.dead)
		if s.conns[c.key] == c {
			delete(s.conns, c.key)
		}
	}
	s.mu.Unlock()
	close(c.ready)
	if err != nil {
		return
	}
	s.connections.Add(1)
	go func() {
		_ = client.Wait()
		close(c.dead)
		s.drop(c)
	}()
	if s.cfg.Keepalive > 0 {
		go keepalive(client, s.cfg.Keepalive, c.dead)
	}
}

// drop closes c and removes it from the pool if it is still there.
func (s *SSH) drop(c *conn) {
	if c.client != nil {
		c.client.Close()
	}
	s.mu.Lock()
	if s.conns[c.key] == c {
		delete(s.conns, c.key)
	}
	s.mu.Unlock()
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// keepalive sends keepalive@openssh.com every interval until stop closes,
// and closes the client when a request fails or keepaliveMaxMissed in a
// row go unanswered (a server that is gone without a TCP reset).
func keepalive(client *ssh.Client, every time.Duration, stop <-chan struct{}) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	replies := make(chan error, 1)
	outstanding, missed := false, 0
	for {
		select {
		case <-stop:
			return
		case err := <-replies:
			if err != nil {
				client.Close()
				return
			}
			outstanding, missed = false, 0
		case <-tick.C:
			if outstanding {
				if missed++; missed >= keepaliveMaxMissed {
					client.Close()
					return
				}
				continue
			}
			outstanding = true
			go func() {
				// OpenSSH answers with a failure reply; any reply proves
				// the connection alive.
				_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
				replies <- err
			}()
		}
	}
}

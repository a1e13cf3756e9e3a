package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHConfig configures an SSH pool. Zero fields take the defaults noted.
// What deploy.yml sets wins over ssh_config (OpenSSH); what it leaves unset
// comes from ssh_config, then from these defaults.
type SSHConfig struct {
	User string // ssh.user; unset: ssh_config's User, else "root"
	// Port is ssh.port; unset (0): ssh_config's Port, else 22. A host given
	// as "name:port" overrides both.
	Port int
	// Keys are private key files (Kamal's ssh.keys, "~/" expanded). A file
	// that cannot be read is an error naming it, returned by every Run.
	// When set, ssh_config's IdentityFile is not used (net-ssh's merge).
	Keys []string
	// KeyData are PEM private keys (ssh.key_data).
	KeyData [][]byte
	// KeysOnly offers only Keys and KeyData: no ssh-agent, no default keys.
	KeysOnly bool
	// Proxy is a jump host "user@host[:port]" or a chain of them separated
	// by commas (ssh.proxy, ProxyJump's syntax); user defaults to
	// ssh_config's User for that host, else root. Each hop's connection is
	// pooled like the others and carries the next hop's.
	Proxy string
	// ProxyCommand is a command whose standard input and output carry the
	// connection (ssh.proxy_command; %h, %p, %r expanded), run with sh -c.
	ProxyCommand string
	// OpenSSH is the ssh_config applied to every host (nil: none).
	OpenSSH *OpenSSHConfig
	// ForwardAgent forwards the ssh-agent to every session (ssh.forward_agent).
	ForwardAgent bool
	// KnownHostsFile records host keys; default ~/.ssh/known_hosts
	// (ssh_config's UserKnownHostsFile wins).
	KnownHostsFile string
	// MaxConcurrentStarts bounds connection handshakes in flight at once
	// (sshkit.max_concurrent_starts), default 30, below OpenSSH's default
	// MaxStartups of 10:30:100 random-drop ceiling.
	MaxConcurrentStarts int
	// MaxSessions bounds concurrent sessions (commands) per connection,
	// default 10 (OpenSSH's MaxSessions).
	MaxSessions int
	// ConnectTimeout bounds each connection attempt (TCP connect,
	// handshake, authentication); unset: ssh_config's ConnectTimeout,
	// else 30s.
	ConnectTimeout time.Duration
	// Keepalive is the interval of keepalive@openssh.com requests; unset:
	// ssh_config's ServerAliveInterval, else 30s (Kamal's); negative
	// disables them. A connection that leaves KeepaliveCount of them
	// unanswered in a row (ssh_config's ServerAliveCountMax, else 3) is
	// closed, failing the commands running on it.
	Keepalive      time.Duration
	KeepaliveCount int
	// PoolIdleTimeout closes a connection no command has used for that
	// long (sshkit.pool_idle_timeout); a later command dials again. 0: never.
	PoolIdleTimeout time.Duration
	// Passphrase asks for the passphrase of an encrypted key file (nil: no
	// terminal; such keys must be in the agent). Calls are serialized.
	Passphrase func(keyFile string) ([]byte, error)
	// Retries is how many times a connection attempt refused or reset
	// (sshd throttling starts) or failing DNS is retried, with backoff
	// 0.1s·2^n capped at 2s plus jitter; default 3, negative means none.
	Retries int
	// Debugf receives retry notices and other diagnostics; nil drops them.
	Debugf func(format string, args ...any)
	// Getenv looks up the variable naming the agent's socket
	// (SSH_AUTH_SOCK, or IdentityAgent's $VAR) as the run sees its
	// environment (Kamal 1 adds .env); nil: os.Getenv.
	Getenv func(string) string
}

// Defaults for what neither deploy.yml nor ssh_config sets.
const (
	defaultKeepalive      = 30 * time.Second
	defaultKeepaliveCount = 3
	defaultConnectTimeout = 30 * time.Second
)

// cancelDrain is how long Run waits, after signalling and closing a
// cancelled session, for the server to close the channel and the output
// to drain before it returns anyway. OpenSSH keeps a channel open until
// its command exits, and refuses signals in some setups (forced commands,
// "session signalling requires privilege separation"), so this must stay
// short; the session slot is released whenever the channel really closes.
const cancelDrain = 200 * time.Millisecond

// withDefaults fills in the pool-wide defaults; per-host ones (user, port,
// timeouts, keepalives) are settled in resolve.
func (c SSHConfig) withDefaults() SSHConfig {
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

	ctx    context.Context // cancelled by Close; aborts dials in flight
	cancel context.CancelFunc

	targets sync.Map // host string -> *target, resolved (see parseHost)
	mu      sync.Mutex
	conns   map[string]*conn
	closed  bool

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

	forwardAgent bool         // request agent forwarding on every session
	lastUsed     atomic.Int64 // unix nanoseconds a command last started or ended
	carried      atomic.Int64 // connections to other hosts dialled over this one
}

// Stats counts the pool's connection work.
type Stats struct {
	Dials       int64 // TCP connection attempts, retries included
	Connections int64 // SSH connections established (authenticated)
	Open        int   // connections currently pooled and alive
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
		hostKeys: &hostKeys{debugf: cfg.Debugf},
		starts:   make(chan struct{}, cfg.MaxConcurrentStarts),
		ctx:      ctx,
		cancel:   cancel,
		conns:    map[string]*conn{},
	}
	return s
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
	if err := Refuse(ctx, "a command on "+host); err != nil {
		return -1, err
	}
	t, err := s.parseHost(host)
	if err != nil {
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

// Preconnector is a transport that can start connecting to a host ahead
// of its first command.
type Preconnector interface {
	// Preconnect starts dialling host in the background, unless it has a
	// connection or a dial already, and returns at once. The next command
	// or forward on host waits for that dial and gets its connection, or
	// its error; a failed dial is forgotten, so that one dials again.
	Preconnect(host string)
}

var _ Preconnector = (*SSH)(nil)

// Preconnect implements Preconnector. A host that does not parse is left
// for its first command to report.
func (s *SSH) Preconnect(host string) {
	t, err := s.parseHost(host)
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // get starts the dial, then returns without waiting for it
	s.get(ctx, t)
}

// get returns t's connection, dialling it (once, shared by concurrent
// callers) if there is none. ctx only bounds the wait: the dial itself
// goes on for other waiters and later callers.
func (s *SSH) get(ctx context.Context, t *target) (*conn, error) {
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
			forwardAgent: t.forwardAgent,
			key:          t.key,
			ready:        make(chan struct{}),
			sessions:     make(chan struct{}, s.cfg.MaxSessions),
			dead:         make(chan struct{}),
			spare:        make(chan *ssh.Session, 1),
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
func (s *SSH) establish(c *conn, t *target) {
	client, watch, via, err := s.connect(t)
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
	c.touch()
	if via != nil {
		via.carried.Add(1)
	}
	// Keepalives and the idle check are timers and the end is noticed by
	// the socket (endWatch): an idle pooled connection holds no goroutine
	// of ours.
	var timers []*time.Timer
	if t.keepalive > 0 {
		timers = append(timers, keepalive(client, t.keepalive, t.keepaliveCount, c.dead, func() {
			s.cfg.Debugf("ssh %s: no answer to %d keepalives %v apart: closing the connection", t.name, t.keepaliveCount, t.keepalive)
		}))
	}
	if s.cfg.PoolIdleTimeout > 0 {
		timers = append(timers, s.reapIdle(c, t.name))
	}
	watch.onEnd(func() {
		close(c.dead)
		for _, tm := range timers {
			tm.Stop()
		}
		if via != nil {
			via.carried.Add(-1)
			via.touch()
		}
		go s.drop(c) // Close waits for the goroutine this may run on
	})
}

// touch records that c is in use now.
func (c *conn) touch() { c.lastUsed.Store(time.Now().UnixNano()) }

// reapIdle closes c once no command has run on it for PoolIdleTimeout
// and it carries no connection to another host (sshkit's
// pool_idle_timeout); the next command on the host dials again. It checks
// on a timer that rearms itself until c is closed (the returned timer, for
// stopping it then).
func (s *SSH) reapIdle(c *conn, name string) *time.Timer {
	idle := s.cfg.PoolIdleTimeout
	every := min(max(idle/10, 10*time.Millisecond), time.Minute)
	var mu sync.Mutex // the timer's first tick may come before tm is set
	var tm *time.Timer
	mu.Lock()
	defer mu.Unlock()
	tm = time.AfterFunc(every, func() {
		if isClosed(c.dead) {
			return
		}
		busy := len(c.sessions) - len(c.spare)
		since := time.Since(time.Unix(0, c.lastUsed.Load()))
		if busy == 0 && c.carried.Load() == 0 && since >= idle {
			s.cfg.Debugf("ssh %s: idle for %v (pool_idle_timeout): closing the connection", name, since.Round(time.Second))
			s.drop(c)
			return
		}
		mu.Lock()
		tm.Reset(every)
		mu.Unlock()
	})
	return tm
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
// and closes the client (after calling gone) when a request fails or
// maxMissed in a row go unanswered (a server that is gone without a TCP
// reset, or frozen). It runs on a timer that rearms itself (the returned
// timer, for stopping it): no goroutine waits between keepalives; one
// lives while a request is unanswered.
func keepalive(client *ssh.Client, every time.Duration, maxMissed int, stop <-chan struct{}, gone func()) *time.Timer {
	var mu sync.Mutex
	outstanding, missed := false, 0
	var tm *time.Timer
	mu.Lock()
	defer mu.Unlock()
	tm = time.AfterFunc(every, func() {
		if isClosed(stop) {
			return
		}
		mu.Lock()
		if outstanding {
			if missed++; missed >= maxMissed {
				mu.Unlock()
				gone()
				client.Close()
				return
			}
			tm.Reset(every)
			mu.Unlock()
			return
		}
		outstanding = true
		tm.Reset(every)
		mu.Unlock()
		// OpenSSH answers with a failure reply; any reply proves the
		// connection alive.
		_, _, err := client.SendRequest("keepalive@openssh.com", true, nil)
		if err != nil {
			client.Close()
			return
		}
		mu.Lock()
		outstanding, missed = false, 0
		mu.Unlock()
	})
	return tm
}

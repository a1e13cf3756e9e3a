package executor

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// testServer is a small in-process SSH server on 127.0.0.1:0: exec
// requests run "/bin/sh -c" in their own process group with output
// streamed and "exit-status" sent; "signal" requests signal the group;
// direct-tcpip channels are forwarded (for jump host tests). It counts what
// it sees.
type testServer struct {
	t       *testing.T
	ln      net.Listener
	addr    string // "127.0.0.1:port"
	port    int
	hostKey ssh.Signer
	config  *ssh.ServerConfig

	refuse       atomic.Int64 // reset this many more TCP connections right away
	ignoreGlobal atomic.Bool  // leave global requests (keepalives) unanswered
	// sessionLimit > 0 refuses session opens beyond it ("no more
	// sessions"); slotHold > 0 keeps a finished session's slot taken that
	// long after the channel closed. Together they behave like OpenSSH's
	// MaxSessions, which frees slots a little after the client sees the
	// session end.
	sessionLimit    atomic.Int64
	slotHold        atomic.Int64 // nanoseconds
	refusedSessions atomic.Int64

	accepted    atomic.Int64 // TCP connections accepted
	connections atomic.Int64 // SSH connections authenticated
	closedConns atomic.Int64 // SSH connections that ended
	sessions    atomic.Int64 // sessions open now (idle spares included)
	execOpen    atomic.Int64 // sessions open now that have run a command
	opened      atomic.Int64 // sessions opened so far; the nth open is session n
	sessionOf   sync.Map     // command -> the number of the session that ran it
	maxSessions atomic.Int64 // most sessions open at once
	keepalives  atomic.Int64
	directs     atomic.Int64 // direct-tcpip channels
	signals     atomic.Int64 // signal requests received
	abandoned   atomic.Int64 // sessions closed by the client while their command ran

	// handshaking counts connections between accept and their key being
	// accepted (what sshd's MaxStartups counts; inHandshake holds their
	// remote addresses), a part of the time the client holds a start
	// slot; maxHandshaking is its high-water mark. authDelay
	// (nanoseconds) slows every key check.
	handshaking, maxHandshaking atomic.Int64
	inHandshake                 sync.Map
	authDelay                   atomic.Int64

	started chan string // the command of every exec, once started

	mu       sync.Mutex
	conns    []net.Conn
	userList []string // user of every accepted key (per authentication)
	done     bool
	wg       sync.WaitGroup
}

// newKeyPair returns a fresh ed25519 signer and its private key.
func newKeyPair(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, priv
}

// newKey returns a fresh ed25519 signer and its unencrypted OpenSSH PEM.
func newKey(t testing.TB) (ssh.Signer, []byte) {
	t.Helper()
	signer, priv := newKeyPair(t)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}

// newTestServer starts a server accepting the given client keys.
func newTestServer(t *testing.T, authorized ...ssh.PublicKey) *testServer {
	t.Helper()
	return newTestServerWithKeys(t, nil, authorized...)
}

// newTestServerWithKeys starts a server with a fresh ed25519 host key
// (ts.hostKey) plus extraHostKeys, accepting the given client keys.
func newTestServerWithKeys(t *testing.T, extraHostKeys []ssh.Signer, authorized ...ssh.PublicKey) *testServer {
	t.Helper()
	hostKey, _ := newKey(t)
	ts := &testServer{t: t, hostKey: hostKey, started: make(chan string, 1000)}
	ts.config = &ssh.ServerConfig{
		PublicKeyCallback: func(md ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			time.Sleep(time.Duration(ts.authDelay.Load()))
			for _, k := range authorized {
				if string(k.Marshal()) == string(key.Marshal()) {
					ts.handshakeDone(md.RemoteAddr())
					ts.mu.Lock()
					ts.userList = append(ts.userList, md.User())
					ts.mu.Unlock()
					return nil, nil
				}
			}
			return nil, errors.New("unknown key")
		},
	}
	ts.config.AddHostKey(hostKey)
	for _, k := range extraHostKeys {
		ts.config.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.ln = ln
	ts.addr = ln.Addr().String()
	ts.port = ln.Addr().(*net.TCPAddr).Port
	ts.wg.Add(1)
	go ts.serve()
	t.Cleanup(ts.kill)
	return ts
}

// users returns the user of every authentication with an accepted key,
// in order (x/crypto's server asks once per key and connection).
func (ts *testServer) users() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.userList...)
}

func (ts *testServer) serve() {
	defer ts.wg.Done()
	for {
		nc, err := ts.ln.Accept()
		if err != nil {
			return
		}
		ts.accepted.Add(1)
		if ts.refuse.Add(-1) >= 0 {
			// Like sshd beyond MaxStartups: drop the start with a reset.
			nc.(*net.TCPConn).SetLinger(0)
			nc.Close()
			continue
		}
		if !ts.track(nc) {
			return
		}
		ts.wg.Add(1)
		go ts.handleConn(nc)
	}
}

// handshakeDone ends the handshake of the connection from remote, once.
func (ts *testServer) handshakeDone(remote net.Addr) {
	if _, ok := ts.inHandshake.LoadAndDelete(remote.String()); ok {
		ts.handshaking.Add(-1)
	}
}

// track remembers nc for kill/dropConnections; false once killed.
func (ts *testServer) track(nc net.Conn) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.done {
		nc.Close()
		return false
	}
	ts.conns = append(ts.conns, nc)
	return true
}

// dropConnections closes every connection but keeps listening.
func (ts *testServer) dropConnections() {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, c := range ts.conns {
		c.Close()
	}
	ts.conns = nil
}

// kill stops the server abruptly: listener and every connection closed.
func (ts *testServer) kill() {
	ts.mu.Lock()
	ts.done = true
	ts.mu.Unlock()
	ts.ln.Close()
	ts.dropConnections()
	ts.wg.Wait()
}

func (ts *testServer) handleConn(nc net.Conn) {
	defer ts.wg.Done()
	ts.inHandshake.Store(nc.RemoteAddr().String(), true)
	n := ts.handshaking.Add(1)
	for {
		m := ts.maxHandshaking.Load()
		if n <= m || ts.maxHandshaking.CompareAndSwap(m, n) {
			break
		}
	}
	sc, chans, reqs, err := ssh.NewServerConn(nc, ts.config)
	ts.handshakeDone(nc.RemoteAddr())
	if err != nil {
		return
	}
	ts.connections.Add(1)
	defer ts.closedConns.Add(1)
	go func() {
		for r := range reqs {
			if r.Type == "keepalive@openssh.com" {
				ts.keepalives.Add(1)
			}
			if ts.ignoreGlobal.Load() {
				continue
			}
			r.Reply(false, nil) // what OpenSSH answers
		}
	}()
	var wg sync.WaitGroup
	for nch := range chans {
		switch nch.ChannelType() {
		case "session":
			// Opens on one connection arrive here one at a time, so the
			// check and the count are consistent.
			if lim := ts.sessionLimit.Load(); lim > 0 && ts.sessions.Load() >= lim {
				ts.refusedSessions.Add(1)
				nch.Reject(ssh.ConnectionFailed, "open failed")
				continue
			}
			n := ts.sessions.Add(1)
			for {
				m := ts.maxSessions.Load()
				if n <= m || ts.maxSessions.CompareAndSwap(m, n) {
					break
				}
			}
			seq := ts.opened.Add(1)
			wg.Add(1)
			go func() { defer wg.Done(); ts.handleSession(nch, seq) }()
		case "direct-tcpip":
			wg.Add(1)
			go func() { defer wg.Done(); ts.handleDirect(nch) }()
		default:
			nch.Reject(ssh.UnknownChannelType, "unsupported")
		}
	}
	sc.Close()
	wg.Wait()
}

func (ts *testServer) handleSession(nch ssh.NewChannel, seq int64) {
	hold := time.Duration(ts.slotHold.Load())
	var leave sync.Once
	leaveSession := func() { leave.Do(func() { ts.sessions.Add(-1) }) }
	defer func() {
		time.Sleep(hold)
		leaveSession()
	}()
	ch, reqs, err := nch.Accept()
	if err != nil {
		return
	}
	defer ch.Close()

	var cmd *exec.Cmd
	exited := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "exec":
			var msg struct{ Command string }
			if cmd != nil || ssh.Unmarshal(req.Payload, &msg) != nil {
				req.Reply(false, nil)
				continue
			}
			cmd = exec.Command("/bin/sh", "-c", msg.Command)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			stdin, _ := cmd.StdinPipe()
			if err := cmd.Start(); err != nil {
				req.Reply(false, nil)
				continue
			}
			req.Reply(true, nil)
			ts.sessionOf.Store(msg.Command, seq)
			ts.execOpen.Add(1)
			defer ts.execOpen.Add(-1)
			go func() { io.Copy(stdin, ch); stdin.Close() }()
			ts.started <- msg.Command
			go func() {
				defer close(exited)
				cmd.Wait()
				status := cmd.ProcessState.ExitCode()
				if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					status = 128 + int(ws.Signal())
				}
				// Without a hold, leave before reporting, so a client that
				// starts its next session on seeing this one end never
				// overlaps it.
				if hold == 0 {
					leaveSession()
				}
				ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(status)}))
				ch.Close()
			}()
		case "signal":
			var msg struct{ Signal string }
			ssh.Unmarshal(req.Payload, &msg)
			ts.signals.Add(1)
			if sig, ok := signalsByName[msg.Signal]; ok && cmd != nil {
				syscall.Kill(-cmd.Process.Pid, sig)
			}
		default:
			if req.WantReply {
				req.Reply(false, nil)
			}
		}
	}
	// The channel is closed (by the client or with the connection).
	if cmd != nil {
		select {
		case <-exited:
		default:
			ts.abandoned.Add(1)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
}

var signalsByName = map[string]syscall.Signal{
	"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL, "HUP": syscall.SIGHUP,
}

func (ts *testServer) handleDirect(nch ssh.NewChannel) {
	var msg struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if err := ssh.Unmarshal(nch.ExtraData(), &msg); err != nil {
		nch.Reject(ssh.ConnectionFailed, "bad request")
		return
	}
	nc, err := net.Dial("tcp", net.JoinHostPort(msg.Host, strconv.Itoa(int(msg.Port))))
	if err != nil {
		nch.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nch.Accept()
	if err != nil {
		nc.Close()
		return
	}
	ts.directs.Add(1)
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); io.Copy(nc, ch); nc.(*net.TCPConn).CloseWrite() }()
	go func() { defer wg.Done(); io.Copy(ch, nc); ch.CloseWrite() }()
	wg.Wait()
	nc.Close()
	ch.Close()
}

// logRecorder collects Debugf output; safe after the test ends.
type logRecorder struct {
	mu    sync.Mutex
	lines []string
}

func (l *logRecorder) Debugf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logRecorder) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

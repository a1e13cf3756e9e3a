package executor

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// hangGuard is a generous bound that only keeps a broken test from hanging.
const hangGuard = 60 * time.Second

// sshFixture is a server plus a pool authorized on it.
type sshFixture struct {
	ts   *testServer
	pool *SSH
	cfg  SSHConfig
	log  *logRecorder
}

func newSSHFixture(t *testing.T, tweak ...func(*SSHConfig)) *sshFixture {
	t.Helper()
	signer, pemKey := newKey(t)
	ts := newTestServer(t, signer.PublicKey())
	log := &logRecorder{}
	cfg := SSHConfig{
		User:           "tester",
		KeyData:        [][]byte{pemKey},
		KeysOnly:       true,
		KnownHostsFile: filepath.Join(t.TempDir(), "ssh", "known_hosts"),
		Debugf:         log.Debugf,
	}
	for _, f := range tweak {
		f(&cfg)
	}
	pool := NewSSH(cfg)
	t.Cleanup(func() { pool.Close() })
	return &sshFixture{ts: ts, pool: pool, cfg: cfg, log: log}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

// run runs script on the fixture's server and returns status and output.
func (f *sshFixture) run(t *testing.T, script string) (int, string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: script, Stdout: &out, Stderr: &errOut})
	return status, out.String(), errOut.String(), err
}

// waitFor polls cond until it holds; the deadline only prevents hangs.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSSHReusesOneConnection(t *testing.T) {
	f := newSSHFixture(t)
	for i := range 100 {
		status, out, _, err := f.run(t, fmt.Sprintf("echo %d", i))
		if err != nil || status != 0 || out != fmt.Sprintf("%d\n", i) {
			t.Fatalf("command %d: status %d, out %q, err %v", i, status, out, err)
		}
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
	if st := f.pool.Stats(); st.Dials != 1 || st.Connections != 1 || st.Open != 1 {
		t.Errorf("stats %+v, want 1 dial, 1 connection, 1 open", st)
	}
}

func TestSSHConcurrentFirstUseDialsOnce(t *testing.T) {
	f := newSSHFixture(t)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: fmt.Sprintf("echo %d", i), Stdout: &out})
			if err != nil || status != 0 || out.String() != fmt.Sprintf("%d\n", i) {
				errs <- fmt.Errorf("command %d: status %d, out %q, err %v", i, status, out.String(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
	if st := f.pool.Stats(); st.Dials != 1 {
		t.Errorf("stats %+v, want 1 dial", st)
	}
}

// Preconnect dials in the background; the command after it uses that
// connection instead of dialling again.
func TestSSHPreconnectDialsOnceAheadOfTheFirstCommand(t *testing.T) {
	f := newSSHFixture(t)
	f.pool.Preconnect(f.ts.addr)
	waitFor(t, "the background dial", func() bool { return f.pool.Stats().Open == 1 })
	f.pool.Preconnect(f.ts.addr) // connected already: nothing new
	if status, out, _, err := f.run(t, "echo ok"); err != nil || status != 0 || out != "ok\n" {
		t.Fatalf("command after Preconnect: status %d, out %q, err %v", status, out, err)
	}
	if st := f.pool.Stats(); st.Dials != 1 || f.ts.connections.Load() != 1 {
		t.Errorf("stats %+v, server saw %d connections; want 1 dial, 1 connection", st, f.ts.connections.Load())
	}
}

func TestSSHMaxSessionsBound(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.MaxSessions = 3 })
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: "sleep 0.2"}); err != nil || status != 0 {
				t.Errorf("status %d, err %v", status, err)
			}
		}()
	}
	wg.Wait()
	if got := f.ts.maxSessions.Load(); got > 3 || got < 2 {
		t.Errorf("server saw at most %d concurrent sessions, want 2..3", got)
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
}

func TestSSHRefusedSessionsAreRetried(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.MaxSessions = 3 })
	f.ts.sessionLimit.Store(3)
	f.ts.slotHold.Store(int64(20 * time.Millisecond))
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: fmt.Sprintf("echo %d", i), Stdout: &out})
			if err != nil || status != 0 || out.String() != fmt.Sprintf("%d\n", i) {
				t.Errorf("command %d: status %d, out %q, err %v", i, status, out.String(), err)
			}
		}()
	}
	wg.Wait()
	if f.ts.refusedSessions.Load() == 0 {
		t.Fatal("the server refused no session: the test did not exercise retries")
	}
	if !containsLine(f.log.all(), "session refused") {
		t.Errorf("no debug note about refused sessions: %q", f.log.all())
	}
}

func TestSSHExitStatus(t *testing.T) {
	f := newSSHFixture(t)
	for script, want := range map[string]int{"true": 0, "exit 3": 3, "false": 1, "kill -9 $$": 137} {
		status, _, _, err := f.run(t, script)
		if err != nil || status != want {
			t.Errorf("%q: status %d err %v, want %d", script, status, err, want)
		}
	}
}

func TestSSHStdoutStderrAndStdin(t *testing.T) {
	f := newSSHFixture(t)
	status, out, errOut, err := f.run(t, "echo out1; echo err1 >&2; echo out2; echo err2 >&2")
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if out != "out1\nout2\n" || errOut != "err1\nerr2\n" {
		t.Errorf("stdout %q, stderr %q", out, errOut)
	}

	var got bytes.Buffer
	status, err = f.pool.Run(testCtx(t), f.ts.addr, Request{Script: "tr a-z A-Z", Stdin: strings.NewReader("hello\n"), Stdout: &got})
	if err != nil || status != 0 || got.String() != "HELLO\n" {
		t.Errorf("stdin: status %d, out %q, err %v", status, got.String(), err)
	}
}

func TestSSHOutputStreamsBeforeExit(t *testing.T) {
	f := newSSHFixture(t)
	seen := make(chan struct{})
	w := &notifyWriter{want: "first", seen: seen}
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() { <-seen; cancel() }()
	_, err := f.pool.Run(ctx, f.ts.addr, Request{Script: "echo first; sleep 30", Stdout: w})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want cancellation after the first line arrived", err)
	}
}

func TestSSHUnknownHostIsRecorded(t *testing.T) {
	f := newSSHFixture(t)
	if status, _, _, err := f.run(t, "true"); err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	data, err := os.ReadFile(f.cfg.KnownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("[127.0.0.1]:%d %s", f.ts.port, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(f.ts.hostKey.PublicKey()))))
	if strings.TrimSpace(string(data)) != want {
		t.Errorf("known_hosts:\n%s\nwant:\n%s", data, want)
	}
	if !containsLine(f.log.all(), "Added ssh-ed25519 host key") {
		t.Errorf("no debug note about the added key: %q", f.log.all())
	}

	// A second pool trusts the recorded key and adds nothing.
	pool2 := NewSSH(f.cfg)
	defer pool2.Close()
	if status, err := pool2.Run(testCtx(t), f.ts.addr, Request{Script: "true"}); err != nil || status != 0 {
		t.Fatalf("second pool: status %d, err %v", status, err)
	}
	if data2, _ := os.ReadFile(f.cfg.KnownHostsFile); !bytes.Equal(data, data2) {
		t.Errorf("known_hosts changed on a known host:\n%s", data2)
	}
}

func TestSSHChangedHostKeyIsRefused(t *testing.T) {
	f := newSSHFixture(t)
	other, _ := newKey(t)
	os.MkdirAll(filepath.Dir(f.cfg.KnownHostsFile), 0o700)
	content := "# comment\nother.example " + string(ssh.MarshalAuthorizedKey(other.PublicKey())) +
		fmt.Sprintf("[127.0.0.1]:%d ", f.ts.port) + string(ssh.MarshalAuthorizedKey(other.PublicKey()))
	if err := os.WriteFile(f.cfg.KnownHostsFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, _, err := f.run(t, "true")
	want := fmt.Sprintf("ssh %s: host key for %s has changed (%s:3): refusing to connect", f.ts.addr, f.ts.addr, f.cfg.KnownHostsFile)
	if err == nil || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if f.ts.maxSessions.Load() != 0 {
		t.Error("a session was opened on a refused host")
	}
	if data, _ := os.ReadFile(f.cfg.KnownHostsFile); string(data) != content {
		t.Errorf("known_hosts was modified:\n%s", data)
	}
}

func TestSSHKnownHostOfOtherTypeIsPreferred(t *testing.T) {
	// The server has an ECDSA and an ed25519 key; only the ed25519 one is
	// known. The client must negotiate ed25519 rather than call the host
	// changed (x/crypto alone would prefer ECDSA).
	ecPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecdsaKey, err := ssh.NewSignerFromKey(ecPriv)
	if err != nil {
		t.Fatal(err)
	}
	clientKey, clientPEM := newKey(t)
	ts := newTestServerWithKeys(t, []ssh.Signer{ecdsaKey}, clientKey.PublicKey())
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[127.0.0.1]:%d %s", ts.port, ssh.MarshalAuthorizedKey(ts.hostKey.PublicKey()))
	os.WriteFile(kh, []byte(line), 0o600)
	pool := NewSSH(SSHConfig{KeyData: [][]byte{clientPEM}, KeysOnly: true, KnownHostsFile: kh})
	defer pool.Close()
	if status, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"}); err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
}

func TestSSHAuthFailure(t *testing.T) {
	f := newSSHFixture(t)
	_, wrongKey := newKey(t)
	cfg := f.cfg
	cfg.KeyData = [][]byte{wrongKey}
	pool := NewSSH(cfg)
	defer pool.Close()
	_, err := pool.Run(testCtx(t), f.ts.addr, Request{Script: "true"})
	want := fmt.Sprintf("ssh %s: authentication failed for user tester (tried keys: key_data[0])", f.ts.addr)
	if err == nil || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
	if st := pool.Stats(); st.Dials != 1 {
		t.Errorf("auth failure was retried: %+v", st)
	}
}

func TestSSHMissingKeyFile(t *testing.T) {
	f := newSSHFixture(t)
	cfg := f.cfg
	missing := filepath.Join(t.TempDir(), "id_missing")
	cfg.Keys = []string{missing}
	pool := NewSSH(cfg)
	defer pool.Close()
	_, err := pool.Run(testCtx(t), f.ts.addr, Request{Script: "true"})
	if err == nil || !strings.Contains(err.Error(), "ssh key "+missing+": ") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want one naming %s", err, missing)
	}
	if f.ts.accepted.Load() != 0 {
		t.Error("connected although a key file is missing")
	}
}

func TestSSHConnectionRefusedNamesHost(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, pemKey := newKey(t)
	pool := NewSSH(SSHConfig{KeyData: [][]byte{pemKey}, KeysOnly: true, Retries: -1, KnownHostsFile: filepath.Join(t.TempDir(), "kh")})
	defer pool.Close()
	_, err = pool.Run(testCtx(t), addr, Request{Script: "true"})
	want := fmt.Sprintf("ssh %s: dial tcp %s: connect: connection refused", addr, addr)
	if err == nil || err.Error() != want {
		t.Fatalf("err %v\nwant %s", err, want)
	}
}

func TestSSHRetriesThrottledStarts(t *testing.T) {
	f := newSSHFixture(t)
	f.ts.refuse.Store(2)
	if status, out, _, err := f.run(t, "echo ok"); err != nil || status != 0 || out != "ok\n" {
		t.Fatalf("status %d, out %q, err %v", status, out, err)
	}
	var retries []string
	for _, l := range f.log.all() {
		if strings.HasPrefix(l, "Retrying ssh connection for "+f.ts.addr+" (attempt ") {
			retries = append(retries, l)
		}
	}
	if len(retries) != 2 || !strings.Contains(retries[0], "(attempt 1/3)") || !strings.Contains(retries[1], "(attempt 2/3)") {
		t.Errorf("retry notices %q", f.log.all())
	}
	if st := f.pool.Stats(); st.Dials != 3 || st.Connections != 1 {
		t.Errorf("stats %+v, want 3 dials, 1 connection", st)
	}
}

func TestSSHRetriesGiveUp(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.Retries = 1 })
	f.ts.refuse.Store(5)
	_, _, _, err := f.run(t, "true")
	if err == nil || !strings.HasPrefix(err.Error(), "ssh "+f.ts.addr+": ") {
		t.Fatalf("err %v", err)
	}
	if st := f.pool.Stats(); st.Dials != 2 {
		t.Errorf("stats %+v, want 2 dials", st)
	}
	// The failed dial is not cached: a later Run dials again and succeeds.
	f.ts.refuse.Store(0)
	if status, _, _, err := f.run(t, "true"); err != nil || status != 0 {
		t.Fatalf("after failure: status %d, err %v", status, err)
	}
}

func TestSSHFailedDialReportedToAllWaiters(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.Retries = -1 })
	f.ts.refuse.Store(1)
	var wg sync.WaitGroup
	var failed sync.Map
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: "true"})
			failed.Store(i, err)
		}()
	}
	wg.Wait()
	// Every caller either shared the failed dial (and got its error) or
	// came after it and dialled again; there is never more than one dial
	// at once, so at most 2 dials in all.
	if st := f.pool.Stats(); st.Dials > 2 {
		t.Errorf("stats %+v, want at most 2 dials", st)
	}
	n := 0
	failed.Range(func(_, v any) bool {
		if v != nil {
			n++
		}
		return true
	})
	if n == 0 {
		t.Error("nobody saw the failed dial")
	}
}

func TestSSHServerKilledMidCommand(t *testing.T) {
	f := newSSHFixture(t)
	done := make(chan error, 1)
	go func() {
		status, _, _, err := f.run(t, "echo started; sleep 30")
		if err == nil {
			err = fmt.Errorf("got status %d and no error", status)
		}
		done <- err
	}()
	<-f.ts.started
	f.ts.kill()
	err := <-done
	if !strings.HasPrefix(err.Error(), "ssh "+f.ts.addr+": ") || !strings.Contains(err.Error(), "connection lost") {
		t.Errorf("err %v", err)
	}
}

func TestSSHReconnectsAfterDroppedConnection(t *testing.T) {
	f := newSSHFixture(t)
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	f.ts.dropConnections()
	if status, out, _, err := f.run(t, "echo again"); err != nil || status != 0 || out != "again\n" {
		t.Fatalf("status %d, out %q, err %v", status, out, err)
	}
	if got := f.ts.connections.Load(); got != 2 {
		t.Errorf("server saw %d connections, want 2", got)
	}
}

func TestSSHCancelStopsCommand(t *testing.T) {
	f := newSSHFixture(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := f.pool.Run(ctx, f.ts.addr, Request{Script: "sleep 30"})
		done <- err
	}()
	<-f.ts.started
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "ssh "+f.ts.addr+": ") {
		t.Fatalf("err %v, want a cancellation naming the host", err)
	}
	waitFor(t, "the server to see the signal or the close", func() bool {
		return f.ts.signals.Load() > 0 || f.ts.abandoned.Load() > 0
	})
	if f.ts.signals.Load() == 0 {
		t.Error("server got no signal request")
	}
	waitFor(t, "the session to end", func() bool { return f.ts.execOpen.Load() == 0 })
	// The connection survives for later commands.
	if status, _, _, err := f.run(t, "true"); err != nil || status != 0 {
		t.Fatalf("after cancel: status %d, err %v", status, err)
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
}

func TestSSHKeepalive(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.Keepalive = 10 * time.Millisecond })
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "keepalives", func() bool { return f.ts.keepalives.Load() >= 3 })
	if st := f.pool.Stats(); st.Open != 1 {
		t.Errorf("answered keepalives closed the connection: %+v", st)
	}

	// A server that stops answering is dropped, and the next Run redials.
	f.ts.ignoreGlobal.Store(true)
	waitFor(t, "the unresponsive connection to be closed", func() bool { return f.ts.closedConns.Load() == 1 })
	f.ts.ignoreGlobal.Store(false)
	if status, _, _, err := f.run(t, "true"); err != nil || status != 0 {
		t.Fatalf("after keepalive failure: status %d, err %v", status, err)
	}
	if got := f.ts.connections.Load(); got != 2 {
		t.Errorf("server saw %d connections, want 2", got)
	}
}

func TestSSHHostPortAndConfigPort(t *testing.T) {
	f := newSSHFixture(t)
	cfg := f.cfg
	cfg.Port = f.ts.port
	pool := NewSSH(cfg)
	defer pool.Close()
	if status, err := pool.Run(testCtx(t), "127.0.0.1", Request{Script: "true"}); err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	// "127.0.0.1" and "127.0.0.1:port" are the same connection.
	if _, err := pool.Run(testCtx(t), f.ts.addr, Request{Script: "true"}); err != nil {
		t.Fatal(err)
	}
	if st := pool.Stats(); st.Connections != 1 {
		t.Errorf("stats %+v, want 1 connection", st)
	}
}

func TestSSHClose(t *testing.T) {
	f := newSSHFixture(t)
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	f.pool.Close()
	waitFor(t, "the server to see the connection close", func() bool { return f.ts.closedConns.Load() == 1 })
	if _, _, _, err := f.run(t, "true"); !errors.Is(err, ErrClosed) {
		t.Errorf("err %v, want ErrClosed", err)
	}
}

func TestSSHDefaultKeysAndAgent(t *testing.T) {
	fileSigner, filePEM := newKey(t)
	agentSigner, agentPriv := newKeyPair(t)
	ts := newTestServer(t, fileSigner.PublicKey(), agentSigner.PublicKey())
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	kh := filepath.Join(t.TempDir(), "known_hosts")

	// No keys configured: the default key file is used.
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), filePEM, 0o600)
	pool := NewSSH(SSHConfig{User: "u", KnownHostsFile: kh})
	if status, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"}); err != nil || status != 0 {
		t.Fatalf("default key: status %d, err %v", status, err)
	}
	pool.Close()

	// KeysOnly ignores it.
	pool = NewSSH(SSHConfig{User: "u", KnownHostsFile: kh, KeysOnly: true})
	_, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"})
	if err == nil || !strings.Contains(err.Error(), "authentication failed for user u (tried keys: none)") {
		t.Fatalf("keys only: err %v", err)
	}
	pool.Close()

	// The agent's key works without any file.
	os.Remove(filepath.Join(home, ".ssh", "id_ed25519"))
	sock := startAgent(t, agentPriv)
	t.Setenv("SSH_AUTH_SOCK", sock)
	pool = NewSSH(SSHConfig{User: "u", KnownHostsFile: kh})
	if status, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"}); err != nil || status != 0 {
		t.Fatalf("agent key: status %d, err %v", status, err)
	}
	pool.Close()
}

func TestSSHJumpHost(t *testing.T) {
	f := newSSHFixture(t)
	clientKey, err := ssh.ParsePrivateKey(f.cfg.KeyData[0])
	if err != nil {
		t.Fatal(err)
	}
	jump := newTestServer(t, clientKey.PublicKey())
	cfg := f.cfg
	cfg.Proxy = "tester@" + jump.addr
	pool := NewSSH(cfg)
	defer pool.Close()
	for range 3 {
		var out bytes.Buffer
		if status, err := pool.Run(testCtx(t), f.ts.addr, Request{Script: "echo via", Stdout: &out}); err != nil || status != 0 || out.String() != "via\n" {
			t.Fatalf("status %d, out %q, err %v", status, out.String(), err)
		}
	}
	if jump.connections.Load() != 1 || jump.directs.Load() != 1 || f.ts.connections.Load() != 1 {
		t.Errorf("jump: %d connections, %d forwards; target: %d connections; want 1 each",
			jump.connections.Load(), jump.directs.Load(), f.ts.connections.Load())
	}
	if st := pool.Stats(); st.Connections != 2 {
		t.Errorf("stats %+v, want 2 connections (jump host and target)", st)
	}
}

func TestSSHLargeOutputStreams(t *testing.T) {
	f := newSSHFixture(t)
	const size = 50 << 20
	w := &countingWriter{sampleEvery: 4 << 20}
	w.start()
	status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: fmt.Sprintf("head -c %d /dev/zero", size), Stdout: w})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if w.n != size {
		t.Fatalf("got %d bytes, want %d", w.n, size)
	}
	if growth := w.peak - w.base; growth > 16<<20 {
		t.Errorf("heap grew by %d MB while streaming %d MB", growth>>20, size>>20)
	}
}

func TestSSHWriterErrorIsReported(t *testing.T) {
	f := newSSHFixture(t)
	status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: "head -c 1000000 /dev/zero; exit 4", Stdout: failingWriter{}})
	if status != 4 || err == nil || !strings.Contains(err.Error(), "writing command output: disk full") {
		t.Fatalf("status %d, err %v", status, err)
	}
}

// startAgent serves an in-memory agent holding signer on a unix socket.
func startAgent(t *testing.T, priv ed25519.PrivateKey) string {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	return sock
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// spareReady reports whether host's connection has a spare session ready
// and no refill in flight.
func (f *sshFixture) spareReady() bool {
	f.pool.mu.Lock()
	defer f.pool.mu.Unlock()
	for _, c := range f.pool.conns {
		return len(c.spare) == 1 && !c.refilling.Load()
	}
	return false
}

// After a command, the connection holds one session opened ahead; the
// next command runs on it (it was opened before the command was asked
// for) and another is opened for the one after.
func TestSSHNextCommandRunsOnASpareSession(t *testing.T) {
	f := newSSHFixture(t)
	if _, _, _, err := f.run(t, "echo first"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a spare session", f.spareReady)
	openedBefore := f.ts.opened.Load()
	if status, out, _, err := f.run(t, "echo second"); err != nil || status != 0 || out != "second\n" {
		t.Fatalf("status %d, out %q, err %v", status, out, err)
	}
	seq, _ := f.ts.sessionOf.Load("echo second")
	if seq.(int64) > openedBefore {
		t.Errorf("the command ran on session %d, opened after it was asked for (sessions opened before: %d)", seq, openedBefore)
	}
	waitFor(t, "another spare session", f.spareReady)
	if got := f.ts.sessions.Load(); got != 1 {
		t.Errorf("server has %d sessions open, want 1 (the spare)", got)
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
}

// A spare the server has closed meanwhile is replaced by a fresh session:
// the command still runs.
func TestSSHSpareClosedByServerIsReplaced(t *testing.T) {
	f := newSSHFixture(t)
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a spare session", f.spareReady)
	// Close the spare from the client side's view: as if the server had
	// closed the idle channel.
	f.pool.mu.Lock()
	for _, c := range f.pool.conns {
		sess := <-c.spare
		sess.Close()
		c.spare <- sess
	}
	f.pool.mu.Unlock()
	if status, out, _, err := f.run(t, "echo again"); err != nil || status != 0 || out != "again\n" {
		t.Fatalf("status %d, out %q, err %v", status, out, err)
	}
	if got := f.ts.connections.Load(); got != 1 {
		t.Errorf("server saw %d connections, want 1", got)
	}
}

// Connection starts are paced: however many hosts start at once, at most
// MaxConcurrentStarts handshakes are in flight (sshd drops starts beyond
// MaxStartups), and with a higher limit more are.
func TestSSHConnectionStartsArePaced(t *testing.T) {
	tests := []struct {
		limit    int
		wantMore int64 // the server must have seen at least this many at once
	}{
		{limit: 3, wantMore: 2},
		{limit: 8, wantMore: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			f := newSSHFixture(t, func(c *SSHConfig) { c.MaxConcurrentStarts = tt.limit })
			f.ts.authDelay.Store(int64(50 * time.Millisecond))
			const hosts = 24
			errs := make(chan error, hosts)
			for i := 0; i < hosts; i++ {
				// A user per host: 24 pooled connections to one server.
				host := fmt.Sprintf("ssh://user%d@%s", i, f.ts.addr)
				go func() {
					_, err := f.pool.Run(testCtx(t), host, Request{Script: "true"})
					errs <- err
				}()
			}
			for i := 0; i < hosts; i++ {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			if got := f.ts.connections.Load(); got != hosts {
				t.Fatalf("%d connections, want %d", got, hosts)
			}
			got := f.ts.maxHandshaking.Load()
			if got > int64(tt.limit) {
				t.Errorf("%d handshakes in flight at once, limit %d", got, tt.limit)
			}
			if got < tt.wantMore {
				t.Errorf("only %d handshakes at once with limit %d: starts are not concurrent", got, tt.limit)
			}
		})
	}
}

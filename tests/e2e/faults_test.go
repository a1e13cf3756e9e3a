package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// Faults on hosts and interrupts (README "Faults and bad input"). They use
// Kamal 1's sample app, whose flows hold the deploy lock, so each checks
// that the lock is gone afterwards.

// hangingServer is an HTTP server whose every request hangs until the
// client goes away; hit is closed on the first request. A Dockerfile
// ADDing from it gives a build that is running for as long as a test needs.
func hangingServer(t *testing.T) (url string, hit <-chan struct{}) {
	t.Helper()
	h := make(chan struct{})
	stop := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(h) })
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: lets srv.Close return
	return srv.URL, h
}

// unique is a number no other test (or process) uses, for commands whose
// processes a test must find: "sleep <unique>".
func unique() string { return fmt.Sprint(900000 + time.Now().UnixNano()%90000) }

func waitHit(t *testing.T, hit <-chan struct{}, s *Started) {
	t.Helper()
	select {
	case <-hit:
	case <-s.done:
		s.Wait()
		t.Fatal("kamal ended before the build fetched from the test server")
	case <-time.After(runTimeout):
		t.Fatal("the build never fetched from the test server")
	}
}

func TestInterruptDuringBuildReleasesLockAndPushesNothing(t *testing.T) {
	app := newApp(t, "app")
	url, hit := hangingServer(t)
	app.WriteFile("Dockerfile", "FROM scratch\nADD "+url+"/slow /slow\n", 0o644)
	version := app.Commit("a build that hangs")

	run := app.Start(nil, "build", "push")
	waitHit(t, hit, run)
	run.Signal(syscall.SIGINT)
	stdout, stderr, exit := run.Wait()

	if exit != 130 {
		t.Errorf("exit status %d, want 130", exit)
	}
	report := errorReport(stdout, stderr)
	for _, want := range []string{"  ERROR (Interrupt): Interrupted while running ", "docker build", " on localhost"} {
		if !strings.Contains(report, want) {
			t.Errorf("error report lacks %q:\n%s", want, report)
		}
	}
	assertContains(t, "stdout", stdout, "Releasing the deploy lock...")
	assertNoLock(t)
	assertNotPushed(t, version)
	if left := waitGone(t, version); len(left) > 0 {
		t.Errorf("processes of the interrupted build are left: %v", left)
	}
}

func TestSecondInterruptExitsAtOnce(t *testing.T) {
	app := newApp(t, "app")
	marker := filepath.Join(app.Tmp, "hook-marker")
	// The pre-build hook ignores SIGTERM, so the first interrupt cannot end
	// it before the local transport's grace period is over.
	app.WriteFile(".kamal/hooks/pre-build", "#!/bin/sh\ntrap 'echo term >> "+marker+"' TERM\necho started >> "+marker+"\nwhile :; do sleep 0.05; done\n", 0o755)
	app.Commit("a hook that ignores SIGTERM")
	hasLine := func(line string) func(string) bool {
		return func(string) bool {
			b, _ := os.ReadFile(marker)
			return strings.Contains(string(b), line)
		}
	}

	run := app.Start(nil, "build", "push")
	run.WaitFor("the hook start", hasLine("started"))
	run.Signal(syscall.SIGINT)
	run.WaitFor("the hook's SIGTERM", hasLine("term"))
	run.Signal(syscall.SIGINT)
	stdout, stderr, exit := run.Wait()

	if exit != 130 {
		t.Errorf("exit status %d, want 130", exit)
	}
	assertContains(t, "error report", errorReport(stdout, stderr), "ERROR (Interrupt): Interrupted again: exiting at once; the deploy lock may still be held (see kamal lock status)")
	if left := waitGone(t, app.Dir); len(left) > 0 {
		t.Errorf("processes left after the second interrupt: %v", left)
	}
	// The lock taken by the run is left behind, as the message says; newApp's
	// clean-up removes it.
	if !exists(serverFile("server1", lockDir)) {
		t.Errorf("no deploy lock left on server1, but the message says it may be")
	}
}

// pullScript replaces the stock pull of one host: host runs `sleep
// <marker>` first (the command a test cuts off), then every host pulls as
// the stock flow does.
func pullScript(app *App, slowHosts, marker string) string {
	app.t.Helper()
	path := filepath.Join(app.Tmp, "pull.star")
	src := fmt.Sprintf(`def pull_on_host(host):
    if host in %q.split(","):
        ssh.run(host, cmd("sleep", %q))
    image = config.absolute_image
    ssh.run(host, audit("Pulled image with version " + config.version), level = "debug")
    ssh.run(host, docker.image_rm(image), raise_on_error = False)
    ssh.run(host, docker.pull(image))
    ssh.run(host, docker.validate_image(image))
`, slowHosts, marker)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		app.t.Fatal(err)
	}
	return path
}

// A SIGTERM while commands run on the servers: the sessions are closed, the
// lock is released and the run says what it was doing. The rig's sshds run
// a ForceCommand, and OpenSSH refuses to deliver signals to such sessions:
// the remote commands outlive their closed sessions (documented in the
// README) and are cleaned up here.
func TestTerminateDuringRemoteCommands(t *testing.T) {
	app := newApp(t, "app")
	marker := unique()
	t.Cleanup(func() { killProcesses(t, "sleep "+marker) })
	script := pullScript(app, "server1,server2,server3", marker)

	run := app.Start(nil, "build", "pull", "--script", script)
	run.WaitForText("Running /usr/bin/env sleep "+marker+" on ", 3)
	run.Signal(syscall.SIGTERM)
	stdout, stderr, exit := run.Wait()

	if exit != 143 {
		t.Errorf("exit status %d, want 143", exit)
	}
	assertContains(t, "error report", errorReport(stdout, stderr), "  ERROR (Interrupt): Interrupted while running /usr/bin/env sleep "+marker+" on server")
	assertContains(t, "stdout", stdout, "Releasing the deploy lock...")
	assertNoLock(t)
	// The sessions are closed: soon no remote command is attached to a
	// connection of the rig's sshds any more (sshd notices the closed
	// connection in its own time).
	inSession := func() map[int]string {
		out := map[int]string{}
		for pid, cmdline := range processes(t, "sleep "+marker) {
			for _, h := range rig.Hosts {
				l := sshdListener(t, h)
				for p := parentOf(pid); p > 1; p = parentOf(p) {
					if p == l {
						out[pid] = cmdline + " in a session of " + h
					}
				}
			}
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	left := inSession()
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left = inSession()
	}
	if len(left) > 0 {
		t.Errorf("remote commands still in their sessions: %v", left)
	}
	t.Logf("remote commands outliving their closed sessions (the rig's sshd refuses signals to ForceCommand sessions): %v", processes(t, "sleep "+marker))
}

// The connection to server2 dies (its sshd is killed) while a command runs
// there: server2's work ends with an error naming it, the other servers
// pull, the run fails in Kamal's form and the lock is released.
func TestConnectionKilledMidPull(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	app.mustRun("build", "push")
	marker := unique()
	t.Cleanup(func() { killProcesses(t, "sleep "+marker) })
	script := pullScript(app, "server2", marker)

	run := app.Start(nil, "build", "pull", "--script", script)
	run.WaitForText("Running /usr/bin/env sleep "+marker+" on server2", 1)
	var pid int
	run.WaitFor("the remote sleep process", func(string) bool {
		for p := range processes(t, "sleep "+marker) {
			pid = p
		}
		return pid != 0
	})
	killConnectionOf(t, "server2", pid)
	stdout, stderr, exit := run.Wait()

	assertFailed(t, stdout, stderr, exit, "RuntimeError", "Exception while executing on host server2:", "connection lost")
	assertPulledOn(t, version, "server1", "server3")
	assertNotPulledOn(t, version, "server2")
	assertNoLock(t)
}

// silentHost listens on loopback and accepts connections but never says a
// word: a host that does not answer.
func silentHost(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// editConfig rewrites the app's config/deploy.yml with replacements (old,
// new pairs; each old must be there).
func editConfig(app *App, pairs ...string) {
	app.t.Helper()
	path := filepath.Join(app.Dir, "config/deploy.yml")
	s := readFile(app.t, path)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			app.t.Fatalf("config/deploy.yml has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	app.WriteFile("config/deploy.yml", s, 0o644)
}

func TestUnreachableHostTimesOut(t *testing.T) {
	app := newApp(t, "app")
	silent := silentHost(t)
	editConfig(app, "  - server3\n", "  - "+silent+"\n", "ssh:\n", "x-kamal-go:\n  ssh:\n    connect_timeout: 2\nssh:\n")

	stdout, stderr, exit := app.Run("build", "pull")

	assertFailed(t, stdout, stderr, exit, "Net::SSH::ConnectionTimeout", "Exception while executing on host "+silent+":", "timed out after 2s")
	for _, h := range []string{"server1", "server2"} {
		if !commandSucceeded(stdout, "/usr/bin/env mkdir -p .kamal", h) {
			t.Errorf("%s did not finish its step while %s hung", h, silent)
		}
	}
	assertNoLock(t)
}

// knownHost is host as known_hosts names it: bare on port 22, else
// "[host]:port", as OpenSSH writes it (the rig may not get port 22).
func knownHost(host string) string {
	if rig.SSHPort == "" || rig.SSHPort == "22" {
		return host
	}
	return "[" + host + "]:" + rig.SSHPort
}

// hostKeyLine is host's known_hosts line from the rig's sshd key.
func hostKeyLine(t *testing.T, host string) string {
	t.Helper()
	pub := readFile(t, filepath.Join(rig.State, "sshd", host, "ssh_host_ed25519_key.pub"))
	f := strings.Fields(pub)
	return knownHost(host) + " " + f[0] + " " + f[1] + "\n"
}

func newKey(t *testing.T) (private []byte, public ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(block), sp
}

func TestChangedHostKeyIsRefused(t *testing.T) {
	app := newApp(t, "app")
	_, other := newKey(t)
	known := hostKeyLine(t, "server1") + knownHost("server2") + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(other))) + "\n" + hostKeyLine(t, "server3")
	app.writeHomeFile(".ssh/known_hosts", known)

	stdout, stderr, exit := app.Run("build", "pull")

	assertFailed(t, stdout, stderr, exit, "Net::SSH::HostKeyMismatch", "Exception while executing on host server2:", "host key for server2 has changed")
	if got := readFile(t, filepath.Join(app.Home, ".ssh/known_hosts")); got != known {
		t.Errorf("known_hosts changed:\n%s", got)
	}
	assertNoLock(t)
}

func TestAuthenticationFailure(t *testing.T) {
	app := newApp(t, "app")
	key, _ := newKey(t)
	path := filepath.Join(app.Home, "unauthorized_key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, exit := app.RunEnv([]string{"RIG_SSH_KEY=" + path}, "build", "pull")

	assertFailed(t, stdout, stderr, exit, "Net::SSH::AuthenticationFailed", "Exceptions on 3 hosts:",
		"Exception while executing on host server2: ssh server2: authentication failed for user root (tried keys: "+path+")")
	assertNoLock(t)
}

func TestHangingCommandTimesOut(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	editConfig(app, "ssh:\n", "x-kamal-go:\n  sshkit:\n    command_timeout: 3\n\nssh:\n")
	app.mustRun("build", "push")
	marker := unique()
	t.Cleanup(func() { killProcesses(t, "sleep "+marker) })

	stdout, stderr, exit := app.Run("build", "pull", "--script", pullScript(app, "server2", marker))

	assertFailed(t, stdout, stderr, exit, "Timeout::Error", "Exception while executing on host server2: /usr/bin/env sleep "+marker+" did not finish within 3s (sshkit.command_timeout)")
	assertPulledOn(t, version, "server1", "server3")
	assertNotPulledOn(t, version, "server2")
	assertNoLock(t)
}

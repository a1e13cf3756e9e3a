package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// These tests run Main in this process against hosts on loopback that
// refuse connections or never answer, and check that a failed or
// interrupted run leaves no goroutine behind.

// silentListener accepts connections and never answers; accepted gets a
// value per connection.
func silentListener(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String(), ch
}

// refusedAddr is a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// faultApp writes a Kamal 2 app whose servers are hosts, with a key and a
// clean HOME, commits it and makes it the working directory.
func faultApp(t *testing.T, connectTimeout int, hosts ...string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	app := filepath.Join(dir, "app")
	for _, d := range []string{filepath.Join(home, ".ssh"), filepath.Join(app, "config"), filepath.Join(app, ".kamal")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(home, ".ssh", "id_ed25519")
	var servers bytes.Buffer
	for _, h := range hosts {
		fmt.Fprintf(&servers, "  - %q\n", h)
	}
	files := map[string]string{
		key: string(pem.EncodeToMemory(block)),
		filepath.Join(app, "config/deploy.yml"): fmt.Sprintf("service: app\nimage: app\nservers:\n%sregistry:\n  server: 127.0.0.1:1\n  username: u\n  password:\n    - KAMAL_REGISTRY_PASSWORD\nbuilder:\n  arch: amd64\n  driver: docker\nssh:\n  keys_only: true\n  keys: [%q]\nx-kamal-go:\n  ssh:\n    connect_timeout: %d\n",
			servers.String(), key, connectTimeout),
		filepath.Join(app, ".kamal/secrets"): "KAMAL_REGISTRY_PASSWORD=in-process-secret\n",
		filepath.Join(app, "Dockerfile"):     "FROM scratch\n",
	}
	for path, content := range files {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	t.Setenv("VERSION", "")
	os.Unsetenv("VERSION")
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "app"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = app
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	t.Chdir(app)
}

// baseline is the goroutine count before a run. The first signal.Notify
// of a process starts os/signal's receiving goroutine for good: it is
// started here, so that it does not count as left behind by Main.
func baseline() int {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	signal.Stop(c)
	return runtime.NumGoroutine()
}

// checkNoGoroutinesLeft waits (bounded) for the goroutine count to come back
// to what it was before the run, and fails with a dump if it does not.
func checkNoGoroutinesLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines left after the run (%d before):\n%s", n, before, buf)
	}
}

func TestFailedHostsLeaveNoGoroutine(t *testing.T) {
	silent, _ := silentListener(t)
	refused := refusedAddr(t)
	faultApp(t, 1, refused, silent)
	before := baseline()

	status := Main([]string{"build", "pull"})

	if status != 1 {
		t.Errorf("exit status %d, want 1", status)
	}
	checkNoGoroutinesLeft(t, before)
}

func TestInterruptLeavesNoGoroutine(t *testing.T) {
	silent, accepted := silentListener(t)
	faultApp(t, 120, silent)
	before := baseline()

	done := make(chan int, 1)
	go func() { done <- Main([]string{"build", "pull"}) }()
	select {
	case <-accepted:
	case status := <-done:
		t.Fatalf("Main returned %d before connecting", status)
	case <-time.After(time.Minute):
		t.Fatal("no connection to the silent host")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	var status int
	select {
	case status = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Main did not return after SIGINT")
	}

	if status != 130 {
		t.Errorf("exit status %d, want 130", status)
	}
	checkNoGoroutinesLeft(t, before)
}

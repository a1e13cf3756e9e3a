package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/executor"
)

// The port forward kamal opens for a local registry, against the rig's
// real OpenSSH servers: each server's 127.0.0.1:P is forwarded back to a
// local web server, and a command on the server fetches through it. Each
// server gets its own P because all of them share this machine's loopback.
func TestRemotePortForwardingThroughOpenSSHReachesTheLocalPort(t *testing.T) {
	needRig(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "local registry stand-in %s", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	pool := executor.NewSSH(executor.SSHConfig{
		Port: atoi(t, rig.SSHPort), Keys: []string{rig.SSHKey},
		KeysOnly: true, KnownHostsFile: t.TempDir() + "/known_hosts",
	})
	defer pool.Close()
	ctx := context.Background()
	for _, h := range rig.Hosts {
		remote := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		// The same host as an ssh:// URL (how a remote builder is named)
		// must reach the same server with the URL's user.
		host := h
		if h == "server1" {
			host = "ssh://root@server1"
		}
		fw, err := pool.Forward(ctx, host, remote, ln.Addr().String())
		if err != nil {
			t.Fatalf("forward on %s: %v", h, err)
		}
		var out strings.Builder
		status, err := pool.Run(ctx, h, executor.Request{Script: "curl -s --noproxy '*' http://" + remote + "/v2/", Stdout: &out})
		if err != nil || status != 0 {
			t.Errorf("curl through the forward on %s: status %d, %v", h, status, err)
		}
		if want := "local registry stand-in /v2/"; out.String() != want {
			t.Errorf("%s fetched %q through the forward, want %q", h, out.String(), want)
		}
		if err := fw.Close(); err != nil {
			t.Errorf("closing the forward on %s: %v", h, err)
		}
		// Once closed, the server no longer listens there.
		status, _ = pool.Run(ctx, h, executor.Request{Script: "curl -s --noproxy '*' http://" + remote + "/v2/"})
		if status == 0 {
			t.Errorf("%s still forwards %s after Close", h, remote)
		}
	}
}

func TestRemotePortForwardRefusedByOpenSSHIsReported(t *testing.T) {
	needRig(t)
	busy, err := net.Listen("tcp", "127.0.0.1:0") // the servers share this loopback
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	pool := executor.NewSSH(executor.SSHConfig{
		Port: atoi(t, rig.SSHPort), Keys: []string{rig.SSHKey},
		KeysOnly: true, KnownHostsFile: t.TempDir() + "/known_hosts",
	})
	defer pool.Close()
	_, err = pool.Forward(context.Background(), "server2", busy.Addr().String(), "localhost:1")
	if err == nil || !strings.Contains(err.Error(), executor.ErrForwardRefused.Error()) {
		t.Fatalf("forwarding a port in use: err = %v, want %v", err, executor.ErrForwardRefused)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

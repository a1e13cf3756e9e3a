package builtins

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// oneLayerSave is `docker image save` of an image of one layer.
func oneLayerSave(_ context.Context, image string) (io.ReadCloser, error) {
	layer := []byte("layer")
	sum := sha256.Sum256(layer)
	cfg, _ := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(sum[:])}}})
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	add("l/layer.tar", layer)
	add("config.json", cfg)
	m, _ := json.Marshal([]map[string]any{{"Config": "config.json", "RepoTags": []string{image}, "Layers": []string{"l/layer.tar"}}})
	add("manifest.json", m)
	tw.Close()
	return io.NopCloser(&buf), nil
}

// forwardsRefusedOn forwards every host but those it names, which refuse
// as an sshd whose port is taken does.
type forwardsRefusedOn struct {
	refused map[string]bool
	mu      sync.Mutex
	open    map[string]bool
}

func (f *forwardsRefusedOn) Run(context.Context, string, executor.Request) (int, error) {
	return 0, nil
}

func (f *forwardsRefusedOn) Forward(_ context.Context, host, remote, _ string) (io.Closer, error) {
	if f.refused[host] {
		return nil, fmt.Errorf("ssh %s: %w: listening on %s: port in use", host, executor.ErrForwardRefused, remote)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.open[host] = true
	return closerFunc(func() error { f.mu.Lock(); defer f.mu.Unlock(); delete(f.open, host); return nil }), nil
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

// A host whose forward cannot be set up is named by served.unserved and
// the others are served; the bounds of x-kamal-go/serve reach fn.
func TestServeAHostWhoseForwardFailsDoesNotStopTheOthers(t *testing.T) {
	old := ServeSaver
	ServeSaver = oneLayerSave
	t.Cleanup(func() { ServeSaver = old })
	fw := &forwardsRefusedOn{refused: map[string]bool{"h2": true}, open: map[string]bool{}}
	logger := log.New(io.Discard, false)
	cfg := &config.Config{Serve: config.Serve{MaxHosts: 7, MaxMBInFlight: 3}}
	env := NewEnv(&runstate.State{Config: cfg, Log: logger, Runner: &sshkit.Runner{Log: logger, Remote: fw, Local: fw}})
	thread := &starlark.Thread{Name: "test"}
	env.Attach(thread)
	SetContext(thread, context.Background())
	src := `
hosts = ["h1", "h2", "h3"]
def main():
    return ssh.serve(hosts, "app:v1", 5555, lambda served: ([served.unserved(h) for h in hosts], served.max_hosts))
`
	globals, err := starlark.ExecFile(thread, "serve_test.star", src, Predeclared(NewEnv(&runstate.State{})))
	if err != nil {
		t.Fatal(err)
	}
	v, err := starlark.Call(thread, globals["main"], nil, nil)
	if err != nil {
		t.Fatalf("ssh.serve failed as a whole: %v", err)
	}
	got := v.(starlark.Tuple)
	reasons := got[0].(*starlark.List)
	for i, h := range []string{"h1", "h2", "h3"} {
		why, _ := starlark.AsString(reasons.Index(i))
		if h == "h2" {
			if !strings.HasPrefix(why, "Error setting up port forwarding to h2: ") || !strings.Contains(why, "Failed to establish port forward on h2") {
				t.Errorf("served.unserved(h2) = %q", why)
			}
		} else if why != "" {
			t.Errorf("served.unserved(%s) = %q, want \"\"", h, why)
		}
	}
	if n, _ := starlark.AsInt32(got[1]); n != 7 {
		t.Errorf("served.max_hosts = %d, want 7", n)
	}
	if len(fw.open) != 0 {
		t.Errorf("forwards left open after ssh.serve: %v", fw.open)
	}
}

// preconnects records the hosts ssh.preconnect asked it to dial.
type preconnects struct {
	forwardsRefusedOn
	hosts []string
}

func (p *preconnects) Preconnect(host string) { p.hosts = append(p.hosts, host) }

func TestPreconnectStartsEveryHostsDialButNotInADryRun(t *testing.T) {
	for _, dry := range []bool{false, true} {
		p := &preconnects{}
		logger := log.New(io.Discard, false)
		env := NewEnv(&runstate.State{Log: logger, Flags: runstate.Flags{DryRun: dry}, Runner: &sshkit.Runner{Log: logger, Remote: p, Local: p}})
		thread := &starlark.Thread{Name: "test"}
		env.Attach(thread)
		SetContext(thread, context.Background())
		if _, err := starlark.ExecFile(thread, "preconnect.star", `ssh.preconnect(["h1", "h2", "h1"])`, Predeclared(NewEnv(&runstate.State{}))); err != nil {
			t.Fatal(err)
		}
		want := []string{"h1", "h2"}
		if dry {
			want = nil
		}
		if fmt.Sprint(p.hosts) != fmt.Sprint(want) {
			t.Errorf("dry run %v: dialled %v, want %v", dry, p.hosts, want)
		}
	}
}

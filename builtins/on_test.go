package builtins

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// gateHosts is a transport whose commands wait, per host, for a gate to
// open; it records how many hosts run at once.
type gateHosts struct {
	mu       sync.Mutex
	running  int
	peak     int
	started  map[string]chan struct{} // closed when the host's command starts
	waitFor  map[string][]string      // host -> hosts that must have started first
	finished []string
}

func newGateHosts(hosts ...string) *gateHosts {
	g := &gateHosts{started: map[string]chan struct{}{}, waitFor: map[string][]string{}}
	for _, h := range hosts {
		g.started[h] = make(chan struct{})
	}
	return g
}

// stuck bounds every wait so that a wrong scheduler fails the test instead
// of hanging it; it is not a timing assertion.
const stuck = 20 * time.Second

func (g *gateHosts) Run(ctx context.Context, host string, _ executor.Request) (int, error) {
	g.mu.Lock()
	g.running++
	g.peak = max(g.peak, g.running)
	close(g.started[host])
	deps := g.waitFor[host]
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.finished = append(g.finished, host)
		g.mu.Unlock()
	}()
	for _, d := range deps {
		select {
		case <-g.started[d]:
		case <-time.After(stuck):
			return -1, fmt.Errorf("%s waited for %s to start, which never happened", host, d)
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	}
	return 0, nil
}

// runOn runs on(hosts, f) where f runs one command on its host, with
// max_concurrent_hosts set to limit.
func runOn(t *testing.T, g *gateHosts, limit int, hosts ...string) error {
	t.Helper()
	return runOnCall(t, g, limit, "on(hosts, f)", hosts...)
}

// runOnCall is runOn with the on() call written out (call).
func runOnCall(t *testing.T, g *gateHosts, limit int, call string, hosts ...string) error {
	t.Helper()
	cfg := &config.Config{SSHKit: config.SSHKit{MaxConcurrentStarts: 30, MaxConcurrentHosts: limit}}
	logger := log.New(io.Discard, false)
	env := NewEnv(&runstate.State{Config: cfg, Log: logger, Runner: &sshkit.Runner{Log: logger, Remote: g, Local: g}})
	thread := &starlark.Thread{Name: "test"}
	env.Attach(thread)
	SetContext(thread, context.Background())
	src := `
def f(host):
    ssh.run(host, "true")
def main(hosts):
    return ` + call + `
`
	globals, err := starlark.ExecFile(thread, "on_test.star", src, Predeclared(NewEnv(&runstate.State{})))
	if err != nil {
		t.Fatal(err)
	}
	list := make([]starlark.Value, len(hosts))
	for i, h := range hosts {
		list[i] = starlark.String(h)
	}
	_, err = starlark.Call(thread, globals["main"], starlark.Tuple{starlark.NewList(list)}, nil)
	return err
}

// With max_concurrent_hosts 2, a host starts as soon as any running host
// finishes (a sliding window), not when the whole previous batch has: host
// a keeps running until c has started, which batches of two would never
// allow.
func TestOnMaxConcurrentHostsIsASlidingWindow(t *testing.T) {
	g := newGateHosts("a", "b", "c", "d", "e")
	g.waitFor["a"] = []string{"c", "d", "e"}
	if err := runOn(t, g, 2, "a", "b", "c", "d", "e"); err != nil {
		t.Fatalf("on: %v", err)
	}
	if g.peak > 2 {
		t.Errorf("%d hosts ran at once, want at most 2", g.peak)
	}
	if g.finished[len(g.finished)-1] != "a" {
		t.Errorf("hosts finished in order %v, want a last", g.finished)
	}
}

// on()'s own limit bounds the hosts in flight below max_concurrent_hosts
// (or without it), and the smaller of the two wins.
func TestOnLimitBoundsTheHostsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sshkit   int
		call     string
		wantPeak int
	}{
		{"limit_alone", 0, "on(hosts, f, limit = 2)", 2},
		{"limit_below_sshkit", 3, "on(hosts, f, limit = 1)", 1},
		{"sshkit_below_limit", 1, "on(hosts, f, limit = 3)", 1},
		{"zero_is_no_limit", 0, "on(hosts, f, limit = 0)", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hosts := []string{"a", "b", "c", "d", "e"}
			g := newGateHosts(hosts...)
			// The first wantPeak hosts each wait until all of them have
			// started: a bound below wantPeak leaves them stuck, one above
			// it shows as a higher peak.
			for i := 0; i < tc.wantPeak; i++ {
				g.waitFor[hosts[i]] = hosts[:tc.wantPeak]
			}
			if err := runOnCall(t, g, tc.sshkit, tc.call, hosts...); err != nil {
				t.Fatalf("on: %v", err)
			}
			if g.peak != tc.wantPeak {
				t.Errorf("%d hosts ran at once, want %d", g.peak, tc.wantPeak)
			}
		})
	}
}

// Without max_concurrent_hosts every host runs at once (Kamal's default):
// each host waits for all the others to have started.
func TestOnUnboundedRunsAllHostsAtOnce(t *testing.T) {
	hosts := []string{"h1", "h2", "h3", "h4", "h5", "h6", "h7", "h8"}
	g := newGateHosts(hosts...)
	for _, h := range hosts {
		g.waitFor[h] = hosts
	}
	if err := runOn(t, g, 0, hosts...); err != nil {
		t.Fatalf("on: %v", err)
	}
	if g.peak != len(hosts) {
		t.Errorf("%d hosts ran at once, want %d", g.peak, len(hosts))
	}
}

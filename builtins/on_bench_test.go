package builtins

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// heldHosts is a transport whose commands all wait until every host's
// command runs, and which then measures the memory held (heap and stacks,
// after a collection) before letting them finish.
type heldHosts struct {
	n       int
	mu      sync.Mutex
	running int
	all     chan struct{}
	held    uint64
}

func (h *heldHosts) Run(ctx context.Context, host string, _ executor.Request) (int, error) {
	h.mu.Lock()
	h.running++
	if h.running == h.n {
		h.held = liveMem()
		close(h.all)
	}
	h.mu.Unlock()
	<-h.all
	return 0, nil
}

func liveMem() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkOnMemoryPerHost is what on(hosts, fn) holds per host while every
// host's command runs (one operation: 1000 hosts, each running ssh.run as
// the pull step does): the host's thread, goroutine and the runner's
// command state, without the SSH connection (see the executor's
// benchmarks for that).
func BenchmarkOnMemoryPerHost(b *testing.B) {
	const n = 1000
	hosts := make([]starlark.Value, n)
	for i := range hosts {
		hosts[i] = starlark.String("host" + string(rune('a'+i%26)) + string(rune('0'+i/26%10)) + string(rune('0'+i/260)))
	}
	var per float64
	for i := 0; i < b.N; i++ {
		h := &heldHosts{n: n, all: make(chan struct{})}
		cfg := &config.Config{SSHKit: config.SSHKit{MaxConcurrentStarts: 30}}
		logger := log.New(io.Discard, false)
		env := NewEnv(&runstate.State{Config: cfg, Log: logger, Runner: &sshkit.Runner{Log: logger, Remote: h, Local: h}})
		thread := &starlark.Thread{Name: "bench"}
		env.Attach(thread)
		SetContext(thread, context.Background())
		globals, err := starlark.ExecFile(thread, "bench.star", `
def f(host):
    ssh.run(host, "docker pull registry:4443/app:latest")
def main(hosts):
    return on(hosts, f)
`, Predeclared(NewEnv(&runstate.State{})))
		if err != nil {
			b.Fatal(err)
		}
		before := liveMem()
		if _, err := starlark.Call(thread, globals["main"], starlark.Tuple{starlark.NewList(hosts)}, nil); err != nil {
			b.Fatal(err)
		}
		per += (float64(h.held) - float64(before)) / n
	}
	b.ReportMetric(per/float64(b.N), "live-B/host")
}

package executor

import (
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/log"
)

// liveSampler counts bytes and measures the live heap (after a GC) every
// sampleEvery bytes: what the process holds on to, whatever the GC's pace.
type liveSampler struct {
	sampleEvery int
	n, next     int
	base, peak  uint64
}

func (w *liveSampler) start() {
	w.base = heapAfterGC()
	w.peak, w.next = w.base, w.sampleEvery
}

func (w *liveSampler) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n >= w.next {
		w.next += w.sampleEvery
		w.peak = max(w.peak, heapAfterGC())
	}
	return len(p), nil
}

// 100 MB of output lines over SSH, logged line by line the way the runner
// logs them (a LineWriter per stream, every line shown as under -v), leave
// the live heap within a few MB (the test server's and the client's channel
// windows of 2 MB included): nothing holds the whole output.
func TestSSHHugeOutputIsLoggedInBoundedMemory(t *testing.T) {
	f := newSSHFixture(t)
	const size = 100 << 20
	sink := &liveSampler{sampleEvery: 2 << 20}
	l := log.New(sink, false)
	l.SetThreshold(log.Debug)
	cl := &log.CommandLog{L: l, ID: "00000000", Level: log.Info}
	stdout := &log.LineWriter{Log: cl, Keep: 64 << 10}
	stderr := &log.LineWriter{Log: cl, Stderr: true, Keep: 64 << 10}
	sink.start()
	script := "yes " + strings.Repeat("x", 999) + " | head -c 104857600"
	status, err := f.pool.Run(testCtx(t), f.ts.addr, Request{Script: script, Stdout: stdout, Stderr: stderr})
	stdout.Flush()
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if sink.n < size {
		t.Fatalf("logged %d bytes, want at least %d", sink.n, size)
	}
	if kept := len(stdout.Text()); kept > 64<<10 {
		t.Errorf("kept %d bytes of output, want at most %d", kept, 64<<10)
	}
	growth := int64(sink.peak) - int64(sink.base)
	t.Logf("live heap grew by %.1f MB at most while logging %d MB", float64(growth)/(1<<20), sink.n>>20)
	if growth > 8<<20 {
		t.Errorf("heap grew by %d MB while streaming %d MB", growth>>20, size>>20)
	}
}

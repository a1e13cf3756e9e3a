package sshkit

import (
	"context"
	"runtime"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
)

// heapSampler is the log's destination: it counts the log bytes and
// samples the live heap every sampleEvery bytes of them.
type heapSampler struct {
	sampleEvery int
	n, next     int
	lines       int
	base, peak  uint64
}

func (w *heapSampler) start() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.base, w.peak, w.next = ms.HeapAlloc, ms.HeapAlloc, w.sampleEvery
}

func (w *heapSampler) Write(p []byte) (int, error) {
	w.n += len(p)
	w.lines++
	if w.n >= w.next {
		w.next += w.sampleEvery
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		w.peak = max(w.peak, ms.HeapAlloc)
	}
	return len(p), nil
}

// A command printing 100 MB is logged line by line (every line shown, as
// under -v) while the heap stays within a few MB: the runner keeps only a
// bounded tail of the output, never all of it.
func TestRunStreamsHugeOutputInBoundedMemory(t *testing.T) {
	const size = 100 << 20
	for _, tc := range []struct {
		name, script string
		minLines     int
	}{
		// 100 MB in lines of 1000 bytes.
		{"lines", "yes " + strings.Repeat("x", 999) + " | head -c 104857600", size / 1000},
		// 100 MB with no newline at all (a progress bar): logged in pieces.
		{"one long line", "head -c 104857600 /dev/zero | tr '\\0' x", size / (256 << 10)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &heapSampler{sampleEvery: 1 << 20}
			l := log.New(sink, false)
			l.SetThreshold(log.Debug)
			r := &Runner{Log: l, Local: &executor.Local{}}
			sink.start()
			res, err := r.Run(context.Background(), "", shell.New(tc.script), Options{Level: log.Info})
			if err != nil {
				t.Fatal(err)
			}
			if sink.n < size || sink.lines < tc.minLines {
				t.Fatalf("logged %d bytes in %d lines, want at least %d bytes in %d lines", sink.n, sink.lines, size, tc.minLines)
			}
			if len(res.Stdout) > 2*tail {
				t.Errorf("result kept %d bytes of stdout, want at most %d", len(res.Stdout), 2*tail)
			}
			growth := int64(sink.peak) - int64(sink.base)
			t.Logf("heap grew by %.1f MB at most while logging %d MB", float64(growth)/(1<<20), sink.n>>20)
			if growth > 16<<20 {
				t.Errorf("heap grew by %d MB while streaming %d MB", growth>>20, size>>20)
			}
		})
	}
}

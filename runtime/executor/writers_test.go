package executor

import (
	"errors"
	"runtime"
	"strings"
	"sync"
)

// notifyWriter closes seen once the output so far contains want.
type notifyWriter struct {
	want string
	seen chan struct{}
	buf  strings.Builder
	once sync.Once
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

// countingWriter counts bytes and samples the live heap every sampleEvery
// bytes, to show that output is streamed rather than accumulated.
type countingWriter struct {
	sampleEvery int
	n, next     int
	base, peak  uint64
}

func (w *countingWriter) start() {
	w.base = heapAfterGC()
	w.peak = w.base
	w.next = w.sampleEvery
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n >= w.next {
		w.next += w.sampleEvery
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > w.peak {
			w.peak = ms.HeapAlloc
		}
	}
	return len(p), nil
}

func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

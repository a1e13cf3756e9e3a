package serve

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// BenchmarkServeMemoryWithStalledHosts measures the heap a Registry holds
// while every host is in the middle of the same large blob and reads
// nothing more (a link slower than the disk): each request blocks in its
// write, holding a copy buffer, or waits for one. It reports the heap in
// use then, above what it was before the requests (heap-MB), for several
// numbers of hosts, layer sizes and in-flight bounds: the copy buffers
// stay under the bound whatever the layer size, and what grows with the
// hosts is each connection's own state. A benchmark, it judges nothing;
// docs/serve.md quotes it.
func BenchmarkServeMemoryWithStalledHosts(b *testing.B) {
	for _, tc := range []struct{ hosts, layerMB, boundMB int }{
		{10, 8, 64}, {100, 8, 64}, {100, 64, 64}, {100, 8, 4}, {100, 64, 4},
	} {
		b.Run(fmt.Sprintf("hosts=%d,layer=%dMB,bound=%dMB", tc.hosts, tc.layerMB, tc.boundMB), func(b *testing.B) {
			var heap uint64
			for range b.N {
				heap = stalledHeap(b, tc.hosts, tc.layerMB, tc.boundMB)
			}
			b.ReportMetric(float64(heap)/1e6, "heap-MB")
		})
	}
}

func stalledHeap(b *testing.B, hosts, layerMB, boundMB int) uint64 {
	r, digest := benchRegistry(b, layerMB)
	r.SetMaxInFlight(int64(boundMB) << 20)
	var before, during runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range hosts {
		addr, err := listen(r, fmt.Sprintf("host%d", i))
		if err != nil {
			b.Fatal(err)
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		conns = append(conns, c)
		fmt.Fprintf(c, "GET /v2/app/blobs/%s HTTP/1.1\r\nHost: x\r\n\r\n", digest)
	}
	// The hosts read nothing: the writes fill the socket buffers and
	// block, or wait for a buffer.
	time.Sleep(time.Second)
	runtime.GC()
	runtime.ReadMemStats(&during)
	return during.HeapInuse - min(during.HeapInuse, before.HeapInuse)
}

// BenchmarkServeOneLargeBlob is one host reading a 256 MB blob as fast as
// it can over loopback (no forward): what the copy buffer size costs in
// throughput (MB/s). A benchmark, it judges nothing.
func BenchmarkServeOneLargeBlob(b *testing.B) {
	r, digest := benchRegistry(b, 256)
	addr, err := listen(r, "host")
	if err != nil {
		b.Fatal(err)
	}
	url := "http://" + addr + "/v2/app/blobs/" + digest
	b.SetBytes(256 << 20)
	b.ResetTimer()
	for range b.N {
		resp, err := http.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != 256<<20 {
			b.Fatalf("read %d bytes", n)
		}
	}
}

// benchRegistry serves an image of one layer of layerMB MB until the
// benchmark ends, and returns the layer's digest.
func benchRegistry(b *testing.B, layerMB int) (*Registry, string) {
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("l"), layerMB<<20)}}
	img, err := Index(context.Background(), f.save, "app:v1", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { img.Close() })
	r, err := NewRegistry(context.Background(), img, "app", "v1", func(string, ...any) {})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r, f.diffIDs()[0]
}

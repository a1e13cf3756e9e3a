package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultMaxInFlight is the bound on bytes in flight of a Registry whose
// SetMaxInFlight was not called.
const DefaultMaxInFlight = 64 << 20

// copyChunk is the size of one copy buffer: what one blob request reads
// from the image before writing it to its host. BenchmarkServeOneLargeBlob
// serves 1.2-1.7 GB/s with it on loopback (1.4-1.9 GB/s with 256 KiB), far
// above what an SSH forward carries, and a stalled request holds a quarter
// as much.
const copyChunk = 64 << 10

// bufferPool hands out the copy buffers of every blob request of a
// Registry: at most max bytes of buffers exist, so what is read out of the
// image and not yet written to a host is bounded whatever the number of
// hosts and the layer sizes. A request waits for a buffer when all are in
// use. A returned buffer is handed out again before a new one is made, so
// the buffers that exist are as many as were ever in use at once, not the
// bound. Safe for concurrent use.
type bufferPool struct {
	chunk int
	slots chan struct{} // one token per buffer that may be in use

	mu   sync.Mutex
	free [][]byte // returned buffers, the last returned first
}

func newBufferPool(max int64) *bufferPool {
	chunk := int64(copyChunk)
	if max < chunk {
		chunk = max
	}
	return &bufferPool{chunk: int(chunk), slots: make(chan struct{}, max/chunk)}
}

// get waits for a free buffer, or for ctx to end.
func (p *bufferPool) get(ctx context.Context) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free = p.free[:n-1]
		return b, nil
	}
	return make([]byte, p.chunk), nil
}

func (p *bufferPool) put(b []byte) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
	<-p.slots
}

// blobGet answers GET /v2/REPO/blobs/DIGEST for a blob of the image, with
// a whole body or one range ("bytes=A-B", "bytes=A-": dockerd's resumption
// of a broken blob download), copied through the pool's buffers. It
// reports false, writing nothing, for a request that is not such a GET
// (the protocol handler answers those, errors included).
func (r *Registry) blobGet(w http.ResponseWriter, req *http.Request, pool *bufferPool) bool {
	repo, digest, ok := strings.Cut(strings.TrimPrefix(req.URL.Path, "/v2/"), "/blobs/")
	if req.Method != http.MethodGet || !ok || repo != r.repo {
		return false
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return false
	}
	size, err := r.img.size(h)
	if err != nil {
		return false
	}
	rc, err := r.img.open(req.Context(), h)
	if u := (unservableError{}); errors.As(err, &u) {
		// 403 UNSUPPORTED: dockerd reads the body of a 4xx answer only (a 500
		// is "unexpected HTTP status"), retries neither (it does retry a
		// 500, for over a minute), and prints the message as the pull's
		// last line ("unsupported: MESSAGE"; DENIED would get a misleading
		// "pull access denied ... may require 'docker login'" before it).
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": "UNSUPPORTED", "message": u.Error()}}})
		r.debugf("Not serving %s: %v", digest, u)
		return true
	}
	if err != nil {
		return false
	}
	defer rc.Close()
	ra, ok := rc.(io.ReaderAt)
	if !ok {
		return false
	}
	start, end := int64(0), size
	w.Header().Set("Docker-Content-Digest", h.String())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Accept-Ranges", "bytes")
	status := http.StatusOK
	if rg := req.Header.Get("Range"); rg != "" {
		if start, end, ok = parseRange(rg, size); !ok {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", size))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return true
		}
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
		status = http.StatusPartialContent
	}
	w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(status)
	copyRange(req.Context(), w, ra, start, end, pool)
	return true
}

// copyRange writes [start, end) of ra to w, one pool buffer at a time; a
// buffer is held from its read until its write returned. It stops at the
// first error (the host went, the registry closed).
func copyRange(ctx context.Context, w io.Writer, ra io.ReaderAt, start, end int64, pool *bufferPool) {
	for off := start; off < end; {
		buf, err := pool.get(ctx)
		if err != nil {
			return
		}
		n, err := ra.ReadAt(buf[:min(int64(len(buf)), end-off)], off)
		if n > 0 {
			_, werr := w.Write(buf[:n])
			if werr != nil {
				err = werr
			}
		}
		pool.put(buf)
		off += int64(n)
		if err != nil && !(errors.Is(err, io.EOF) && off == end) {
			return
		}
	}
}

// parseRange reads one byte range of a blob of size bytes, as
// "bytes=A-B" (B inclusive, clipped to the end) or "bytes=A-", into the
// half-open [start, end). Several ranges and suffix ranges ("bytes=-N"),
// which no registry client sends, are not satisfiable.
func parseRange(header string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(header, "bytes=")
	a, b, dash := strings.Cut(spec, "-")
	if !found || !dash || a == "" || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size
	if b != "" {
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < start {
			return 0, 0, false
		}
		end = min(last+1, size)
	}
	return start, end, true
}

package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry serves one indexed image, read-only, to any number of hosts at
// once: one local listener per host (the host's SSH forward connects
// there), so what each host asked for is known. The registry protocol
// (routing, HEAD and GET, Range, error bodies) is go-containerregistry's
// pkg/registry with this image as its blob store, except that blob bodies
// (whole or one range) are copied here through buffers drawn from one pool
// of at most SetMaxInFlight bytes; anything but GET and HEAD is refused.
//
// Safe for concurrent use; every request streams on its own.
type Registry struct {
	img     *Image
	repo    string
	handler http.Handler
	base    context.Context
	debugf  func(string, ...any)

	mu      sync.Mutex
	pool    *bufferPool
	hosts   map[string]*HostStats
	servers []*http.Server
	closed  bool
}

// HostStats is what one host's dockerd asked for.
type HostStats struct {
	Requests int       // HTTP requests, any kind
	Blobs    []v1.Hash // blobs whose bodies were sent (GET), in order
	Bytes    int64     // response body bytes
}

// NewRegistry serves img as repo:tag (and repo@digest). ctx bounds every
// save a request starts; debugf logs each blob sent.
func NewRegistry(ctx context.Context, img *Image, repo, tag string, debugf func(string, ...any)) (*Registry, error) {
	h := registry.New(
		registry.Logger(log.New(io.Discard, "", 0)),
		registry.WithBlobHandler(blobStore{img, repo}),
	)
	// The manifest goes in through the protocol itself, before any
	// listener exists; from then on the handler is read-only.
	w := &recorder{header: http.Header{}}
	req, err := http.NewRequest(http.MethodPut, "/v2/"+repo+"/manifests/"+tag, bytes.NewReader(img.Manifest))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", string(types.OCIManifestSchema1))
	h.ServeHTTP(w, req)
	if w.status != http.StatusCreated {
		return nil, fmt.Errorf("serving %s as %s:%s: manifest refused (%d): %s", img.Name, repo, tag, w.status, w.body.String())
	}
	return &Registry{img: img, repo: repo, handler: h, base: ctx, debugf: debugf, hosts: map[string]*HostStats{},
		pool: newBufferPool(DefaultMaxInFlight)}, nil
}

// SetMaxInFlight bounds the bytes read out of the image and not yet
// written to a host, every host together (default DefaultMaxInFlight):
// the registry's copy buffers, so its memory does not grow with the
// number of hosts or the layer sizes. Requests started before the call
// keep the bound they started with.
func (r *Registry) SetMaxInFlight(bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pool = newBufferPool(max(bytes, 1))
}

// Serve answers host's requests on ln, which the caller may have opened
// (and pointed a forward at) before the registry existed: connections
// made meanwhile wait in its backlog. The registry closes ln, even when
// it refuses it because it is closed.
func (r *Registry) Serve(host string, ln net.Listener) error {
	srv := &http.Server{
		Handler:           r.hostHandler(host),
		BaseContext:       func(net.Listener) context.Context { return r.base },
		ReadHeaderTimeout: 30 * time.Second,
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		ln.Close()
		return errors.New("registry closed")
	}
	r.servers = append(r.servers, srv)
	if r.hosts[host] == nil {
		r.hosts[host] = &HostStats{}
	}
	r.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Stats returns a copy of what host asked for so far.
func (r *Registry) Stats(host string) HostStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.hosts[host]
	if s == nil {
		return HostStats{}
	}
	c := *s
	c.Blobs = append([]v1.Hash(nil), s.Blobs...)
	return c
}

// Close stops every listener and ends the requests in flight (their saves
// stop with them).
func (r *Registry) Close() error {
	r.mu.Lock()
	r.closed = true
	servers := r.servers
	r.servers = nil
	r.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
	return nil
}

func (r *Registry) hostHandler(host string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.hosts[host].Requests++
		pool := r.pool
		r.mu.Unlock()
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusMethodNotAllowed)
			fmt.Fprint(w, `{"errors":[{"code":"UNSUPPORTED","message":"this registry is read-only"}]}`)
			return
		}
		cw := &countingWriter{ResponseWriter: w}
		start := time.Now()
		if !r.blobGet(cw, req, pool) {
			r.handler.ServeHTTP(cw, req)
		}
		blob := ""
		if i := strings.LastIndex(req.URL.Path, "/blobs/"); i >= 0 && req.Method == http.MethodGet {
			blob = req.URL.Path[i+len("/blobs/"):]
		}
		r.mu.Lock()
		s := r.hosts[host]
		s.Bytes += cw.n
		if h, err := v1.NewHash(blob); err == nil && cw.n > 0 {
			s.Blobs = append(s.Blobs, h)
		}
		r.mu.Unlock()
		if blob != "" {
			part := ""
			if rg := req.Header.Get("Range"); rg != "" {
				part = ", " + rg
			}
			r.debugf("Served %s (%d bytes%s) to %s in %.3f seconds", blob, cw.n, part, host, time.Since(start).Seconds())
		}
	})
}

// blobStore is the image as pkg/registry's blob store.
type blobStore struct {
	img  *Image
	repo string
}

func (b blobStore) Stat(_ context.Context, repo string, h v1.Hash) (int64, error) {
	if repo != b.repo {
		return 0, registry.ErrNotFound
	}
	n, err := b.img.size(h)
	if errors.Is(err, errNotFound) {
		return 0, registry.ErrNotFound
	}
	return n, err
}

func (b blobStore) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	if repo != b.repo {
		return nil, registry.ErrNotFound
	}
	rc, err := b.img.open(ctx, h)
	if errors.Is(err, errNotFound) {
		return nil, registry.ErrNotFound
	}
	return rc, err
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

// recorder is the ResponseWriter of the one in-process request.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
func (r *recorder) WriteHeader(s int) { r.status = s }

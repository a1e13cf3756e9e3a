package serve

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// fakeSave builds the tar Docker 20.10's `docker image save` writes: one
// directory per layer with layer.tar, the config as <id>.json, and
// manifest.json last. It counts the saves started.
type fakeSave struct {
	layers [][]byte
	saves  atomic.Int32
}

func (f *fakeSave) diffIDs() []string {
	var ids []string
	for _, l := range f.layers {
		s := sha256.Sum256(l)
		ids = append(ids, "sha256:"+hex.EncodeToString(s[:]))
	}
	return ids
}

func (f *fakeSave) config() []byte {
	b, _ := json.Marshal(map[string]any{
		"architecture": "amd64", "os": "linux",
		"config": map[string]any{"Labels": map[string]string{"service": "app"}},
		"rootfs": map[string]any{"type": "layers", "diff_ids": f.diffIDs()},
	})
	return b
}

func (f *fakeSave) save(_ context.Context, image string) (io.ReadCloser, error) {
	f.saves.Add(1)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	var names []string
	for i, l := range f.layers {
		name := fmt.Sprintf("%064d/layer.tar", i)
		add(fmt.Sprintf("%064d/VERSION", i), []byte("1.0"))
		add(name, l)
		names = append(names, name)
	}
	cfg := f.config()
	s := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(s[:]) + ".json"
	add(cfgName, cfg)
	m, _ := json.Marshal([]map[string]any{{"Config": cfgName, "RepoTags": []string{image}, "Layers": names}})
	add("manifest.json", m)
	tw.Close()
	return io.NopCloser(&buf), nil
}

func startRegistry(t *testing.T, f *fakeSave) (*Registry, *Image, string) {
	t.Helper()
	img, err := Index(context.Background(), f.save, "registry:4443/app:v1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	r, err := NewRegistry(context.Background(), img, "app", "v1", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	addr, err := listen(r, "server1")
	if err != nil {
		t.Fatal(err)
	}
	return r, img, "http://" + addr
}

func get(t *testing.T, method, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func TestServedManifestNamesEveryLayerByItsDiffIDAndSize(t *testing.T) {
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3000), []byte("small layer"), bytes.Repeat([]byte("c"), 70000)}}
	_, img, base := startRegistry(t, f)

	resp, body := get(t, "GET", base+"/v2/app/manifests/v1", "Accept", "application/vnd.oci.image.manifest.v1+json")
	if resp.StatusCode != 200 {
		t.Fatalf("GET manifest: %d %s", resp.StatusCode, body)
	}
	if !bytes.Equal(body, img.Manifest) {
		t.Fatalf("served manifest differs from the index's")
	}
	var m v1.Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	for i, want := range f.diffIDs() {
		if got := m.Layers[i].Digest.String(); got != want {
			t.Errorf("layer %d digest %s, want %s", i, got, want)
		}
		if m.Layers[i].Size != int64(len(f.layers[i])) {
			t.Errorf("layer %d size %d, want %d", i, m.Layers[i].Size, len(f.layers[i]))
		}
	}
	resp, body = get(t, "GET", base+"/v2/app/manifests/"+img.Digest.String())
	if resp.StatusCode != 200 || !bytes.Equal(body, img.Manifest) {
		t.Errorf("GET manifest by digest: %d", resp.StatusCode)
	}
	resp, body = get(t, "GET", base+"/v2/app/blobs/"+m.Config.Digest.String())
	if resp.StatusCode != 200 || !bytes.Equal(body, f.config()) {
		t.Errorf("GET config: %d %q", resp.StatusCode, body)
	}
}

func TestBlobsAreTheLayerTarsFromTheOneSave(t *testing.T) {
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3000), []byte("small layer"), bytes.Repeat([]byte("c"), 70000)}}
	r, _, base := startRegistry(t, f)
	before := f.saves.Load()
	for i, id := range f.diffIDs() {
		resp, body := get(t, "GET", base+"/v2/app/blobs/"+id)
		if resp.StatusCode != 200 || !bytes.Equal(body, f.layers[i]) {
			t.Errorf("GET layer %d: %d, %d bytes, want %d", i, resp.StatusCode, len(body), len(f.layers[i]))
		}
		if resp.Header.Get("Content-Length") != fmt.Sprint(len(f.layers[i])) {
			t.Errorf("layer %d Content-Length %q", i, resp.Header.Get("Content-Length"))
		}
	}
	if got := f.saves.Load(); got != 1 || before != 1 {
		t.Errorf("%d saves in all (%d to index), want the one that indexed", got, before)
	}
	resp, body := get(t, "GET", base+"/v2/app/blobs/"+f.diffIDs()[2], "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, f.layers[2][100:200]) {
		t.Errorf("ranged GET: %d, %d bytes", resp.StatusCode, len(body))
	}
	if s := r.Stats("server1"); len(s.Blobs) != 4 || s.Bytes < 73000 {
		t.Errorf("stats: %+v", s)
	}
}

func TestEverythingButReadingIsRefused(t *testing.T) {
	f := &fakeSave{layers: [][]byte{[]byte("layer")}}
	_, _, base := startRegistry(t, f)
	for _, tc := range []struct{ method, path string }{
		{"PUT", "/v2/app/manifests/v2"},
		{"DELETE", "/v2/app/manifests/v1"},
		{"POST", "/v2/app/blobs/uploads/"},
	} {
		resp, body := get(t, tc.method, base+tc.path)
		if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(body), "read-only") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, "GET", base+"/v2/other/manifests/v1"); resp.StatusCode != 404 {
		t.Errorf("another repository: %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, "GET", base+"/v2/app/blobs/sha256:"+strings.Repeat("0", 64)); resp.StatusCode != 404 {
		t.Errorf("unknown blob: %d, want 404", resp.StatusCode)
	}
}

func TestTheSpooledSaveLeavesNoFileBehind(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("x"), 1<<20)}}
	img, err := Index(context.Background(), f.save, "app:v1", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("spool dir holds %v while serving, want nothing (the file is unlinked)", ents)
	}
	rc, err := img.open(context.Background(), img.Layers()[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	if !bytes.Equal(b, f.layers[0]) {
		t.Errorf("layer read back from the spool differs (%d bytes)", len(b))
	}
}

func TestRangesAsDockerdResumesABlobAreAnswered(t *testing.T) {
	layer := bytes.Repeat([]byte("0123456789"), 10000)
	f := &fakeSave{layers: [][]byte{layer}}
	r, _, base := startRegistry(t, f)
	url := base + "/v2/app/blobs/" + f.diffIDs()[0]
	for _, tc := range []struct {
		rng   string
		want  []byte
		crang string
	}{
		{"bytes=4096-", layer[4096:], fmt.Sprintf("bytes 4096-%d/%d", len(layer)-1, len(layer))},
		{"bytes=10-19", layer[10:20], fmt.Sprintf("bytes 10-19/%d", len(layer))},
		{"bytes=99990-200000", layer[99990:], fmt.Sprintf("bytes 99990-99999/%d", len(layer))},
	} {
		resp, body := get(t, "GET", url, "Range", tc.rng)
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, tc.want) || resp.Header.Get("Content-Range") != tc.crang {
			t.Errorf("Range %s: %d, %d bytes, Content-Range %q; want 206, %d bytes, %q", tc.rng, resp.StatusCode, len(body), resp.Header.Get("Content-Range"), len(tc.want), tc.crang)
		}
	}
	for _, rng := range []string{"bytes=100000-", "bytes=-10", "bytes=5-2", "bytes=0-1,5-6", "lines=1-2"} {
		if resp, _ := get(t, "GET", url, "Range", rng); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("Range %s: %d, want 416", rng, resp.StatusCode)
		}
	}
	if s := r.Stats("server1"); s.Bytes != int64(len(layer)-4096+10+10) {
		t.Errorf("stats count %d body bytes, want %d", s.Bytes, len(layer)-4096+10+10)
	}
}

func TestBlobsLargerThanTheInFlightBoundGoThroughWhole(t *testing.T) {
	layer := make([]byte, 5*copyChunk+123)
	for i := range layer {
		layer[i] = byte(i * 7)
	}
	f := &fakeSave{layers: [][]byte{layer, bytes.Repeat([]byte("b"), 3*copyChunk)}}
	r, _, base := startRegistry(t, f)
	r.SetMaxInFlight(copyChunk) // one buffer for every request
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, body := get(t, "GET", base+"/v2/app/blobs/"+f.diffIDs()[i%2])
			if resp.StatusCode != 200 || !bytes.Equal(body, f.layers[i%2]) {
				t.Errorf("GET %d: %d, %d bytes", i, resp.StatusCode, len(body))
			}
		}()
	}
	wg.Wait()
}

func TestTheBufferPoolNeverHandsOutMoreThanItsBound(t *testing.T) {
	p := newBufferPool(3*copyChunk + 100)
	var held [][]byte
	for range 3 {
		b, err := p.get(context.Background())
		if err != nil || len(b) != copyChunk {
			t.Fatalf("get: %d bytes, %v", len(b), err)
		}
		held = append(held, b)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.get(ctx); err == nil {
		t.Fatal("a fourth buffer was handed out while three are held")
	}
	p.put(held[0])
	b, err := p.get(context.Background())
	if err != nil || &b[0] != &held[0][0] {
		t.Errorf("the returned buffer was not reused")
	}
	if small := newBufferPool(1000); small.chunk != 1000 || cap(small.slots) != 1 {
		t.Errorf("a bound under one chunk: chunk %d, %d buffers; want one of 1000 bytes", small.chunk, cap(small.slots))
	}
}

// One request copying a large blob takes and returns a buffer per chunk:
// it must keep reusing the one buffer, not make one per chunk up to the
// bound (a pool of 64 MB made a 19 MB kamal-go peak at 83 MB on three
// servers, tests/bench/serve).
func TestTheBufferPoolMakesNoMoreBuffersThanWereInUseAtOnce(t *testing.T) {
	p := newBufferPool(8 * copyChunk)
	first, err := p.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	p.put(first)
	for i := range 20 {
		b, err := p.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if &b[0] != &first[0] {
			t.Fatalf("get %d made a new buffer while the one returned was free", i+2)
		}
		p.put(b)
	}
}

// listen starts a listener on 127.0.0.1 for host's requests to r and
// returns its address, as a host's forward would reach it.
func listen(r *Registry, host string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	if err := r.Serve(host, ln); err != nil {
		return "", err
	}
	return ln.Addr().String(), nil
}

package layercache

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func open(t *testing.T, dir string, max int64) *Cache {
	t.Helper()
	c, err := Open(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t *testing.T, c *Cache, b []byte) string {
	t.Helper()
	w, err := c.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	f, err := w.Commit(digestOf(b))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return digestOf(b)
}

func read(t *testing.T, f *os.File) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 1<<40))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCommittedBlobIsServedBackByItsDigestInAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	layer := bytes.Repeat([]byte("layer"), 10000)
	d := put(t, open(t, dir, 1<<30), layer)
	// A second Cache on the same directory is what another process sees:
	// it has verified nothing yet.
	c := open(t, dir, 1<<30)
	if !c.Has(d) {
		t.Fatalf("Has(%s) = false after Commit", d)
	}
	f, err := c.Blob(d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if !bytes.Equal(read(t, f), layer) {
		t.Fatal("blob read back differs")
	}
}

func TestCommitRefusesBytesThatDoNotMatchTheDigestAndLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<30)
	w, _ := c.Create()
	w.Write([]byte("what was written"))
	want := digestOf([]byte("what was announced"))
	if _, err := w.Commit(want); err == nil {
		t.Fatal("Commit of mismatching bytes succeeded")
	}
	if c.Has(want) {
		t.Fatal("mismatching blob is in the cache")
	}
	left, _ := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
}

func TestCorruptBlobIsDetectedOnFirstOpenAndRemoved(t *testing.T) {
	dir := t.TempDir()
	layer := bytes.Repeat([]byte("x"), 5000)
	d := put(t, open(t, dir, 1<<30), layer)
	p := filepath.Join(dir, "blobs", "sha256", d[len("sha256:"):])
	b, _ := os.ReadFile(p)
	b[1234] ^= 1
	os.WriteFile(p, b, 0o600)

	c := open(t, dir, 1<<30)
	if _, err := c.Blob(d); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Blob of a flipped byte: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("corrupt entry still there: %v", err)
	}
	if _, err := c.Blob(d); !errors.Is(err, ErrMissing) {
		t.Fatalf("Blob after removal: %v, want ErrMissing", err)
	}
}

func TestRecordRoundTripsAndACorruptOneIsRemoved(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<30)
	id := digestOf([]byte("config"))
	if _, err := c.Record(id); !errors.Is(err, ErrMissing) {
		t.Fatalf("absent record: %v, want ErrMissing", err)
	}
	if err := c.PutRecord(id, []byte(`{"layers":2}`)); err != nil {
		t.Fatal(err)
	}
	got, err := c.Record(id)
	if err != nil || string(got) != `{"layers":2}` {
		t.Fatalf("Record = %q, %v", got, err)
	}
	p := filepath.Join(dir, "records", "sha256", id[len("sha256:"):])
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte("2"), []byte("3"), 1), 0o600)
	if _, err := c.Record(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("edited record: %v, want ErrCorrupt", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("corrupt record still there")
	}
}

func TestNamesThatAreNotDigestsAreRefused(t *testing.T) {
	c := open(t, t.TempDir(), 1<<30)
	for _, d := range []string{"", "sha256:../../etc/passwd", "md5:abc", "sha256:" + string(bytes.Repeat([]byte("A"), 64))} {
		if _, err := c.Blob(d); err == nil || errors.Is(err, ErrMissing) {
			t.Errorf("Blob(%q): %v, want a refusal", d, err)
		}
		if err := c.PutRecord(d, nil); err == nil {
			t.Errorf("PutRecord(%q) succeeded", d)
		}
	}
}

func TestEvictRemovesLeastRecentlyUsedFirstUntilUnderTheBound(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 250)
	var ds []string
	for i, b := range []string{"a", "b", "c", "d"} {
		d := put(t, c, bytes.Repeat([]byte(b), 100))
		old := time.Now().Add(time.Duration(i-10) * time.Minute) // a oldest
		os.Chtimes(c.blobPath(d), old, old)
		ds = append(ds, d)
	}
	// Using a makes it the most recent: b and c go first.
	f, err := c.Blob(ds[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	freed, err := c.Evict()
	if err != nil {
		t.Fatal(err)
	}
	if freed != 200 {
		t.Errorf("freed %d bytes, want 200", freed)
	}
	for i, want := range []bool{true, false, false, true} {
		if c.Has(ds[i]) != want {
			t.Errorf("after eviction, Has(%c) = %v, want %v", 'a'+i, !want, want)
		}
	}
	// The open file of a survives whatever happens to its entry.
	os.Remove(c.blobPath(ds[0]))
	if got := read(t, f); !bytes.Equal(got, bytes.Repeat([]byte("a"), 100)) {
		t.Fatal("open blob unreadable after removal")
	}
}

func TestEvictTakesStaleTemporaryFilesOnlyAndZeroBoundEmptiesTheCache(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 0)
	d := put(t, c, []byte("layer"))
	stale := filepath.Join(dir, "blobs", "sha256", ".tmp-stale")
	fresh := filepath.Join(dir, "blobs", "sha256", ".tmp-fresh")
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("y"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(stale, old, old)
	if _, err := c.Evict(); err != nil {
		t.Fatal(err)
	}
	if c.Has(d) {
		t.Error("bound 0 kept a blob")
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temporary file kept")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("a write in progress (fresh temporary file) was removed")
	}
}

// Two processes (two Caches on one directory) writing the same blobs and
// evicting at once: every commit succeeds and every blob read back is
// whole.
func TestConcurrentWritersAndEvictorsOfOneDirectoryStayConsistent(t *testing.T) {
	dir := t.TempDir()
	caches := []*Cache{open(t, dir, 1<<20), open(t, dir, 1<<20)}
	layers := [][]byte{bytes.Repeat([]byte("1"), 300<<10), bytes.Repeat([]byte("2"), 300<<10), bytes.Repeat([]byte("3"), 300<<10), bytes.Repeat([]byte("4"), 300<<10)}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, c := range caches {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, l := range layers {
					w, err := c.Create()
					if err != nil {
						errs <- err
						return
					}
					w.Write(l)
					f, err := w.Commit(digestOf(l))
					if err != nil {
						errs <- err
						return
					}
					if b, _ := io.ReadAll(io.NewSectionReader(f, 0, 1<<30)); !bytes.Equal(b, l) {
						errs <- errors.New("committed file differs")
					}
					f.Close()
					if _, err := c.Evict(); err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	fresh := open(t, dir, 1<<20)
	for _, l := range layers {
		f, err := fresh.Blob(digestOf(l))
		if errors.Is(err, ErrMissing) {
			continue // evicted: allowed
		}
		if err != nil {
			t.Fatalf("blob after concurrent writes: %v", err)
		}
		f.Close()
	}
	if n, _ := fresh.Evict(); n != 0 {
		t.Errorf("cache above its bound after the writers' evictions: %d bytes more", n)
	}
}

func TestEvictPrunesBuildKitsIndexToLiveEntriesAndDropsStaleIngests(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<30)
	layer := put(t, c, []byte("layer"))
	cfg := put(t, c, []byte(`{"rootfs":{"type":"layers"}}`))
	manifest := func(layer string) string {
		return put(t, c, []byte(fmt.Sprintf(`{"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q}]}`, cfg, layer)))
	}
	live, dead := manifest(layer), manifest(digestOf([]byte("evicted layer")))
	entry := func(d, name string) string {
		return fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"annotations":{"io.containerd.image.name":%q}}`, d, name)
	}
	index := `{"schemaVersion":2,"manifests":[` + entry(dead, "app:v0") + "," + entry(digestOf([]byte("gone manifest")), "app:v0b") + "," + entry(live, "app:v1") + `]}`
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{}`), 0o644)
	for _, name := range []string{"stale", "fresh"} {
		os.MkdirAll(filepath.Join(dir, "ingest", name), 0o755)
		os.WriteFile(filepath.Join(dir, "ingest", name, "data"), []byte("partial"), 0o644)
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(filepath.Join(dir, "ingest", "stale"), old, old)
	if _, err := c.Evict(); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{"index.json": true, "ingest/stale": false, "ingest/fresh": true, "oci-layout": true} {
		if _, err := os.Stat(filepath.Join(dir, p)); (err == nil) != want {
			t.Errorf("after eviction, %s exists = %v, want %v", p, err == nil, want)
		}
	}
	if d, err := c.Named("app:v1"); err != nil || d != live {
		t.Errorf("app:v1 after eviction: %s, %v; want %s", d, err, live)
	}
	for _, name := range []string{"app:v0", "app:v0b"} {
		if _, err := c.Named(name); !errors.Is(err, ErrNotNamed) {
			t.Errorf("%s (its blobs gone) after eviction: %v, want ErrNotNamed", name, err)
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	if !strings.Contains(string(b), `"schemaVersion":2`) {
		t.Errorf("pruned index.json lost its other fields: %s", b)
	}
	if !c.Has(layer) {
		t.Error("a blob under the bound was evicted")
	}
}

func TestNamedIsTheNewestEntryOfTheNameInEveryFormBuildKitWrites(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<30)
	entry := func(d, name string) string {
		return fmt.Sprintf(`{"digest":%q,"annotations":{"io.containerd.image.name":%q}}`, d, name)
	}
	a, b, hub := digestOf([]byte("a")), digestOf([]byte("b")), digestOf([]byte("hub"))
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"manifests":[`+entry(a, "localhost:5000/app:v1")+","+
		entry(b, "localhost:5000/app:v1")+","+entry(hub, "docker.io/dhh/app:v1")+`]}`+"\n]}"), 0o644)
	tests := []struct{ name, want string }{
		{"localhost:5000/app:v1", b},
		{"dhh/app:v1", hub},
		{"docker.io/dhh/app:v1", hub},
	}
	for _, tt := range tests {
		if got, err := c.Named(tt.name); err != nil || got != tt.want {
			t.Errorf("Named(%s) = %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
	if _, err := c.Named("localhost:5000/app:v2"); !errors.Is(err, ErrNotNamed) {
		t.Errorf("a name not listed: %v, want ErrNotNamed", err)
	}
	if _, err := open(t, t.TempDir(), 1).Named("app:v1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no index.json: %v, want os.ErrNotExist", err)
	}
}

func TestEvictRemovesAnIndexThatDoesNotParse(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir, 1<<30)
	p := filepath.Join(dir, "index.json")
	os.WriteFile(p, []byte(`{"manifests":[{"digest":`), 0o644)
	if _, err := c.Evict(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an index.json that does not parse survived eviction: %v", err)
	}
	if _, err := c.Named("app:v1"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Named after it went: %v, want os.ErrNotExist", err)
	}
}

package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamal-go/kamal/runtime/layercache"
)

// cachedIndex indexes f's image through the cache in dir, as a process of
// its own would (a fresh Cache: nothing checked yet), and returns the
// debug lines it logged.
func cachedIndex(t *testing.T, f *fakeSave, dir string, id string) (*Image, *strings.Builder) {
	t.Helper()
	c, err := layercache.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	return indexThrough(t, c, f.save, id)
}

// indexThrough indexes the image saved by save through c, its ID id, and
// returns the debug lines it logged; the Image is closed when t ends.
func indexThrough(t *testing.T, c *layercache.Cache, save Saver, id string) (*Image, *strings.Builder) {
	t.Helper()
	var (
		mu  sync.Mutex
		log strings.Builder
	)
	img, err := IndexCached(context.Background(), save, "app:v1", CacheOptions{
		Cache: c,
		ID:    func(context.Context, string) (string, error) { return id, nil },
		Debugf: func(format string, args ...any) {
			mu.Lock()
			fmt.Fprintf(&log, format+"\n", args...)
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { img.Close() })
	return img, &log
}

func readLayer(t *testing.T, img *Image, i int) []byte {
	t.Helper()
	rc, err := img.open(context.Background(), img.Layers()[i].Digest)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func configID(f *fakeSave) string { return sha(f.config()).String() }

func TestSecondIndexOfTheSameImageIDRunsNoSave(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3<<20), []byte("small layer"), bytes.Repeat([]byte("c"), 70000)}}
	first, _ := cachedIndex(t, f, dir, configID(f))
	if f.saves.Load() != 1 {
		t.Fatalf("%d saves for the first index, want 1", f.saves.Load())
	}
	second, log := cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 1 {
		t.Fatalf("%d saves after the second index of the same image ID, want still 1", n)
	}
	if !bytes.Equal(second.Manifest, first.Manifest) || !bytes.Equal(second.Config, first.Config) || second.Digest != first.Digest {
		t.Fatal("the image indexed from the cache differs from the one indexed from the save")
	}
	for i, l := range f.layers {
		if got := readLayer(t, second, i); !bytes.Equal(got, l) {
			t.Errorf("layer %d from the cache differs (%d bytes, want %d)", i, len(got), len(l))
		}
	}
	if f.saves.Load() != 1 || !strings.Contains(log.String(), "no docker image save") {
		t.Errorf("serving from the cache: %d saves, log:\n%s", f.saves.Load(), log)
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "*", "sha256", ".tmp-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left in the cache: %v", tmps)
	}
}

func TestCorruptCachedLayerIsReadAgainBeforeItIsServed(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3<<20), []byte("small layer")}}
	first, _ := cachedIndex(t, f, dir, configID(f))
	d := first.Layers()[0].Digest
	p := filepath.Join(dir, "blobs", "sha256", d.Hex)
	b, _ := os.ReadFile(p)
	b[len(b)/2] ^= 0x20
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}

	img, log := cachedIndex(t, f, dir, configID(f))
	if f.saves.Load() != 1 {
		t.Fatalf("the index itself saved again (%d saves): it needs no layer's content", f.saves.Load())
	}
	// Two hosts asking at once: one more save for both.
	var wg sync.WaitGroup
	got := make([][]byte, 2)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = readLayer(t, img, 0) }()
	}
	wg.Wait()
	for i := range got {
		if !bytes.Equal(got[i], f.layers[0]) {
			t.Errorf("request %d got a layer that differs from the image's", i)
		}
	}
	if n := f.saves.Load(); n != 2 {
		t.Errorf("%d saves in all, want 2 (one more for the corrupt layer)", n)
	}
	if !strings.Contains(log.String(), "corrupt") || !strings.Contains(log.String(), "reading app:v1 again") {
		t.Errorf("log does not say the entry was corrupt and read again:\n%s", log)
	}
	if c, _ := layercache.Open(dir, 1<<30); c != nil {
		rc, err := c.Blob(d.String())
		if err != nil {
			t.Fatalf("the layer read again is not in the cache: %v", err)
		}
		rc.Close()
	}
}

func TestLayerEvictedSinceTheRecordMeansOneSave(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one"), []byte("two")}}
	first, _ := cachedIndex(t, f, dir, configID(f))
	os.Remove(filepath.Join(dir, "blobs", "sha256", first.Layers()[1].Digest.Hex))
	img, _ := cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 2 {
		t.Fatalf("%d saves, want 2: a record with a layer gone is no hit", n)
	}
	if got := readLayer(t, img, 1); !bytes.Equal(got, f.layers[1]) {
		t.Fatal("layer differs")
	}
	cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 2 {
		t.Fatalf("%d saves, want 2: the save refilled the cache", n)
	}
}

func TestCorruptRecordMeansOneSaveThatWritesItAgain(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one"), []byte("two")}}
	cachedIndex(t, f, dir, configID(f))
	p := filepath.Join(dir, "records", "sha256", strings.TrimPrefix(configID(f), "sha256:"))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0x01
	os.WriteFile(p, b, 0o600)
	_, log := cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 2 || !strings.Contains(log.String(), "corrupt") {
		t.Fatalf("%d saves, want 2: a corrupt record is no hit; log:\n%s", n, log)
	}
	cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 2 {
		t.Fatalf("%d saves, want 2: the save wrote the record again", n)
	}
}

func TestSaveOfAnotherImageThanTheIDIsNotRecorded(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one")}}
	other := "sha256:" + strings.Repeat("ab", 32)
	img, log := cachedIndex(t, f, dir, other)
	if got := readLayer(t, img, 0); !bytes.Equal(got, f.layers[0]) {
		t.Fatal("layer differs")
	}
	if !strings.Contains(log.String(), "Not recording") {
		t.Errorf("log:\n%s", log)
	}
	c, _ := layercache.Open(dir, 1<<30)
	if _, err := c.Record(other); !errors.Is(err, layercache.ErrMissing) {
		t.Errorf("record of %s: %v, want none", other, err)
	}
}

func TestImageIDUnreadableFallsBackToTheSpool(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one")}}
	c, _ := layercache.Open(dir, 1<<30)
	img, err := IndexCached(context.Background(), f.save, "app:v1", CacheOptions{
		Cache:  c,
		ID:     func(context.Context, string) (string, error) { return "", errors.New("no such image") },
		Debugf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.cached != nil || img.spool == nil {
		t.Error("an image without an ID was not spooled")
	}
	if got := readLayer(t, img, 0); !bytes.Equal(got, f.layers[0]) {
		t.Fatal("layer differs")
	}
}

// A host that hangs up while its request started the refill does not fail
// the others: the save runs under the serve's context.
func TestRefillOutlivesTheRequestThatStartedIt(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 1<<20)}}
	first, _ := cachedIndex(t, f, dir, configID(f))
	d := first.Layers()[0].Digest
	p := filepath.Join(dir, "blobs", "sha256", d.Hex)
	b, _ := os.ReadFile(p)
	b[10] ^= 1
	os.WriteFile(p, b, 0o600)

	c, _ := layercache.Open(dir, 1<<30)
	save := func(ctx context.Context, image string) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return f.save(ctx, image)
	}
	img, _ := indexThrough(t, c, save, configID(f))
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	rc, err := img.open(gone, d)
	if err != nil {
		t.Fatalf("layer for a request whose client went away: %v", err)
	}
	rc.Close()
	if got := readLayer(t, img, 0); !bytes.Equal(got, f.layers[0]) {
		t.Fatal("layer differs")
	}
	if n := f.saves.Load(); n != 2 {
		t.Fatalf("%d saves, want 2 (the refill)", n)
	}
}

// assertSameAsTheSave checks that img serves f's layers and the manifest
// indexing f's save gives: what a server pulls is the same image.
func assertSameAsTheSave(t *testing.T, img *Image, f *fakeSave) {
	t.Helper()
	for i, l := range f.layers {
		if got := readLayer(t, img, i); !bytes.Equal(got, l) {
			t.Errorf("layer %d differs", i)
		}
	}
	fromSave, err := Index(context.Background(), f.save, "app:v1", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fromSave.Close()
	if !bytes.Equal(img.Manifest, fromSave.Manifest) {
		t.Errorf("manifest differs from the save's:\n%s\n%s", img.Manifest, fromSave.Manifest)
	}
}

// What a BuildKit build with an OCI output into the cache leaves: the
// config and the uncompressed layers as blobs, no record.
func writeAsBuildKit(t *testing.T, dir string, f *fakeSave, blobs ...[]byte) {
	t.Helper()
	c, _ := layercache.Open(dir, 1<<30)
	for _, b := range blobs {
		w, err := c.Create()
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		rc, err := w.Commit(sha(b).String())
		if err != nil {
			t.Fatal(err)
		}
		rc.Close()
	}
}

func TestLayersABuildWroteToTheCacheNeedNoSave(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3<<20), []byte("small layer")}}
	writeAsBuildKit(t, dir, f, append([][]byte{f.config()}, f.layers...)...)

	img, log := cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 0 {
		t.Fatalf("%d saves, want 0: the build left config and layers in the cache; log:\n%s", n, log)
	}
	if !strings.Contains(log.String(), "layers its build wrote") {
		t.Errorf("log:\n%s", log)
	}
	assertSameAsTheSave(t, img, f)
	c, _ := layercache.Open(dir, 1<<30)
	if _, err := c.Record(configID(f)); err != nil {
		t.Errorf("no record written for the next serve: %v", err)
	}
}

func TestBuildOutputLackingALayerMeansOneSave(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one"), []byte("two")}}
	writeAsBuildKit(t, dir, f, f.config(), f.layers[0])
	img, _ := cachedIndex(t, f, dir, configID(f))
	if n := f.saves.Load(); n != 1 {
		t.Fatalf("%d saves, want 1", n)
	}
	if got := readLayer(t, img, 1); !bytes.Equal(got, f.layers[1]) {
		t.Fatal("layer differs")
	}
}

func TestLayersABuildWroteAreKeptWithinTheBound(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 3<<20)}}
	old := bytes.Repeat([]byte("o"), 2<<20) // an older build's layer
	writeAsBuildKit(t, dir, f, old)
	then := time.Now().Add(-time.Hour)
	os.Chtimes(filepath.Join(dir, "blobs", "sha256", sha(old).Hex), then, then)
	writeAsBuildKit(t, dir, f, append([][]byte{f.config()}, f.layers...)...)

	c, _ := layercache.Open(dir, 4<<20)
	img, _ := indexThrough(t, c, f.save, configID(f))
	if c.Has(sha(old).String()) {
		t.Error("the older layer outlived the bound: the build's path did not evict")
	}
	if got := readLayer(t, img, 0); !bytes.Equal(got, f.layers[0]) || f.saves.Load() != 0 {
		t.Errorf("layer differs or %d saves", f.saves.Load())
	}
}

// containerd's image store names an image by its manifest: a blob of that
// name in the cache is no config to serve.
func TestABlobNamedByTheIDThatIsNoConfigIsNotServed(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one")}}
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`)
	writeAsBuildKit(t, dir, f, manifest)
	img, _ := cachedIndex(t, f, dir, sha(manifest).String())
	if n := f.saves.Load(); n != 1 {
		t.Fatalf("%d saves, want 1: a manifest is no config", n)
	}
	if !bytes.Equal(img.Config, f.config()) {
		t.Errorf("served config %s, want the image's", img.Config)
	}
}

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
	"sync/atomic"
	"testing"

	"github.com/kamal-go/kamal/runtime/layercache"
)

// A BuildKit build under --serve writes only the OCI output into the cache
// (no load into the local image store): the serve finds the image by name
// in the cache's index.json.

// ociManifest is the manifest BuildKit writes for f's image (its layers
// uncompressed, so their digests are the DiffIDs).
func ociManifest(f *fakeSave) []byte {
	var layers []string
	for _, l := range f.layers {
		layers = append(layers, fmt.Sprintf(`{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}`, sha(l), len(l)))
	}
	cfg := f.config()
	return []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[%s]}`,
		sha(cfg), len(cfg), strings.Join(layers, ",")))
}

// indexEntry is one index.json entry as BuildKit writes it for name.
func indexEntry(mediaType string, blob []byte, name string) string {
	return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d,"annotations":{"io.containerd.image.name":%q,"org.opencontainers.image.ref.name":"v1"}}`,
		mediaType, sha(blob), len(blob), name)
}

func writeIndexJSON(t *testing.T, dir string, entries ...string) {
	t.Helper()
	b := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` + strings.Join(entries, ",") + `]}`
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(b), 0o644); err != nil {
		t.Fatal(err)
	}
}

// indexNotInStore indexes app:v1 through the cache in dir as the serve
// does when docker image inspect does not find it; saves counts the saves
// (each fails: the image is not in the local image store).
func indexNotInStore(t *testing.T, dir string) (*Image, string, error, *atomic.Int32) {
	t.Helper()
	c, err := layercache.Open(dir, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	var saves atomic.Int32
	var log strings.Builder
	img, err := IndexCached(context.Background(), func(context.Context, string) (io.ReadCloser, error) {
		saves.Add(1)
		return nil, errors.New("Error response from daemon: reference does not exist")
	}, "app:v1", CacheOptions{
		Cache:  c,
		ID:     func(context.Context, string) (string, error) { return "", errors.New("No such image: app:v1") },
		Debugf: func(format string, args ...any) { fmt.Fprintf(&log, format+"\n", args...) },
	})
	if img != nil {
		t.Cleanup(func() { img.Close() })
	}
	return img, log.String(), err, &saves
}

func TestImageOnlyABuildWroteIsFoundByNameNewestEntryFirst(t *testing.T) {
	dir := t.TempDir()
	older := &fakeSave{layers: [][]byte{[]byte("older build")}}
	f := &fakeSave{layers: [][]byte{bytes.Repeat([]byte("a"), 1<<20), []byte("small layer")}}
	m, om := ociManifest(f), ociManifest(older)
	writeAsBuildKit(t, dir, f, append([][]byte{f.config(), m, om, older.config()}, append(f.layers, older.layers...)...)...)
	const mt = "application/vnd.oci.image.manifest.v1+json"
	writeIndexJSON(t, dir, indexEntry(mt, om, "app:v1"), indexEntry(mt, om, "app:latest"), indexEntry(mt, m, "app:v1"))

	img, log, err, saves := indexNotInStore(t, dir)
	if err != nil {
		t.Fatalf("%v; log:\n%s", err, log)
	}
	if n := saves.Load(); n != 0 {
		t.Errorf("%d saves, want 0", n)
	}
	if img.ConfigID.String() != configID(f) {
		t.Errorf("image ID %s, want the newest entry's config %s", img.ConfigID, configID(f))
	}
	assertSameAsTheSave(t, img, f)
	if !strings.Contains(log, "not in the local image store") {
		t.Errorf("log:\n%s", log)
	}
}

func TestImageIndexWithAnAttestationServesItsOneImageManifest(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("layer")}}
	m := ociManifest(f)
	att := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}`)
	idx := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"architecture":"unknown","os":"unknown"}}]}`,
		sha(m), len(m), sha(att), len(att)))
	writeAsBuildKit(t, dir, f, append([][]byte{f.config(), m, att, idx}, f.layers...)...)
	writeIndexJSON(t, dir, indexEntry("application/vnd.oci.image.index.v1+json", idx, "app:v1"))

	img, log, err, _ := indexNotInStore(t, dir)
	if err != nil {
		t.Fatalf("%v; log:\n%s", err, log)
	}
	if img.ConfigID.String() != configID(f) {
		t.Errorf("image ID %s, want %s", img.ConfigID, configID(f))
	}
}

func TestLayerGoneFromAnImageOnlyABuildWroteSaysToBuildAgain(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one"), []byte("two")}}
	m := ociManifest(f)
	writeAsBuildKit(t, dir, f, f.config(), m, f.layers[0])
	writeIndexJSON(t, dir, indexEntry("application/vnd.oci.image.manifest.v1+json", m, "app:v1"))

	_, _, err, saves := indexNotInStore(t, dir)
	if err == nil || !strings.Contains(err.Error(), "not in the local image store to read it again: "+rebuildHint) {
		t.Fatalf("error %v, want the layer named and %q", err, rebuildHint)
	}
	if n := saves.Load(); n != 0 {
		t.Errorf("%d saves, want none: the image is not in the local store", n)
	}
}

func TestCorruptLayerOfAnImageOnlyABuildWroteIsNotReadWithASave(t *testing.T) {
	dir := t.TempDir()
	f := &fakeSave{layers: [][]byte{[]byte("one layer")}}
	m := ociManifest(f)
	writeAsBuildKit(t, dir, f, append([][]byte{f.config(), m}, f.layers...)...)
	writeIndexJSON(t, dir, indexEntry("application/vnd.oci.image.manifest.v1+json", m, "app:v1"))
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", sha(f.layers[0]).Hex), []byte("one layeR"), 0o600)

	img, log, err, saves := indexNotInStore(t, dir)
	if err != nil {
		t.Fatalf("%v; log:\n%s", err, log)
	}
	_, err = img.open(context.Background(), img.Layers()[0].Digest)
	if err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), rebuildHint) {
		t.Errorf("serving the corrupt layer: %v, want it named corrupt and %q", err, rebuildHint)
	}
	if n := saves.Load(); n != 0 {
		t.Errorf("%d saves, want none", n)
	}
}

func TestImageNeitherInTheStoreNorNamedInTheCacheSaysToBuildIt(t *testing.T) {
	dir := t.TempDir()
	other := &fakeSave{layers: [][]byte{[]byte("other")}}
	m := ociManifest(other)
	writeAsBuildKit(t, dir, other, append([][]byte{other.config(), m}, other.layers...)...)
	writeIndexJSON(t, dir, indexEntry("application/vnd.oci.image.manifest.v1+json", m, "app:v0"))

	_, _, err, _ := indexNotInStore(t, dir)
	want := "app:v1 is neither in the local image store nor in the layer cache a BuildKit build writes: build it first (kamal build push --serve, or deliver --serve)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestImageIndexOfSeveralPlatformsIsRefusedWithOneLine(t *testing.T) {
	dir := t.TempDir()
	a, b := &fakeSave{layers: [][]byte{[]byte("amd64")}}, &fakeSave{layers: [][]byte{[]byte("arm64")}}
	ma, mb := ociManifest(a), ociManifest(b)
	idx := []byte(fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"architecture":"amd64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d,"platform":{"architecture":"arm64","os":"linux"}}]}`,
		sha(ma), len(ma), sha(mb), len(mb)))
	writeAsBuildKit(t, dir, a, a.config(), b.config(), ma, mb, idx, a.layers[0], b.layers[0])
	writeIndexJSON(t, dir, indexEntry("application/vnd.oci.image.index.v1+json", idx, "app:v1"))

	_, _, err, saves := indexNotInStore(t, dir)
	want := "app:v1: the layer cache holds 2 platforms of it; --serve serves one (set builder.arch to one)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if n := saves.Load(); n != 0 {
		t.Errorf("%d saves, want 0", n)
	}
}

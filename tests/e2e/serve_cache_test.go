package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// --serve's layer cache (runtime/layercache) on tests/rig/netns: every run
// gets a cache directory of its own (XDG_CACHE_HOME), and what dockerd
// exported is read from dockerd itself: one image "save" event per
// `docker image save`.

// cacheEnv is the environment that puts kamal's cache in dir.
func cacheEnv(dir string) []string { return []string{"XDG_CACHE_HOME=" + dir} }

// localImageID is the ID of ref in the local image store.
func localImageID(t *testing.T, ref string) string {
	t.Helper()
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{.Id}}", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	return strings.TrimSpace(string(out))
}

// netnsImageID is the ID of ref in host's own dockerd ("" without it).
func netnsImageID(t *testing.T, host, ref string) string {
	t.Helper()
	out, _ := exec.Command("docker", "-H", "unix://"+netnsSocket[host], "image", "inspect", "--format", "{{.Id}}", ref).Output()
	return strings.TrimSpace(string(out))
}

// imageSaves counts the image save events of the local dockerd for image
// id since then.
func imageSaves(t *testing.T, since time.Time, id string) int {
	t.Helper()
	until := time.Now().Add(time.Second)
	time.Sleep(time.Until(until))
	stamp := func(tm time.Time) string { return strconv.FormatFloat(float64(tm.UnixNano())/1e9, 'f', 3, 64) }
	out, err := exec.Command("docker", "events", "--since", stamp(since.Add(-time.Second/2)), "--until", stamp(until),
		"--filter", "type=image", "--filter", "event=save", "--format", "{{.Actor.ID}}").Output()
	if err != nil {
		t.Fatalf("docker events: %v", err)
	}
	return strings.Count(string(out), id)
}

// assertServedImage checks that every server holds Kamal's name of version
// with the local image's ID (config digest: same config, same layers).
func assertServedImage(t *testing.T, version string) {
	t.Helper()
	want := localImageID(t, imageRef(version))
	for _, h := range netnsHosts {
		if got := netnsImageID(t, h, imageRef(version)); got != want {
			t.Errorf("%s has %s as image %q, want %s (the local one)", h, imageRef(version), got, want)
		}
	}
}

// cachedBlobs maps each blob file of the cache under xdg to its size.
func cachedBlobs(t *testing.T, xdg string) map[string]int64 {
	t.Helper()
	blobs := map[string]int64{}
	dir := filepath.Join(xdg, "kamal-go", "layers", "blobs", "sha256")
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".tmp-") {
			fi, _ := d.Info()
			blobs[p] = fi.Size()
		}
		return nil
	})
	return blobs
}

func fileDigest(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil))
}

func TestServeCacheExportsEachImageIDOnceAcrossDelivers(t *testing.T) {
	app := serveApp(t, 4)
	xdg := t.TempDir()
	v1 := app.Version()
	since := time.Now()
	mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve", "-v")
	id1 := localImageID(t, imageRef(v1))
	if n := imageSaves(t, since, id1); n != 1 {
		t.Errorf("first deliver of %s: %d exports, want 1", id1, n)
	}
	assertServedImage(t, v1)
	if n := len(cachedBlobs(t, xdg)); n != 4 {
		t.Errorf("cache holds %d blobs after the first deliver, want the image's 4 layers", n)
	}

	// The same image ID again, to servers that lack it: no export at all,
	// every layer from the cache.
	removeNetnsImages(t, imageRef(v1))
	since = time.Now()
	stdout := mustRunEnv(t, app, cacheEnv(xdg), "build", "pull", "--serve", "-v")
	if n := imageSaves(t, since, id1); n != 0 {
		t.Errorf("second deliver of the same image ID: %d exports, want 0", n)
	}
	assertContains(t, "stdout", stdout, "from the layer cache", "no docker image save")
	assertServedImage(t, v1)

	// One small layer changed: the new image (a new ID, which only the
	// image store holds with the docker driver) is exported once, the old
	// one never again, and a redeploy of the new one exports nothing.
	app.WriteFile(".nonce", fmt.Sprintf("changed %d\n", time.Now().UnixNano()), 0o644)
	v2 := app.Commit("change the small layer")
	since = time.Now()
	mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve", "-v")
	id2 := localImageID(t, imageRef(v2))
	if n := imageSaves(t, since, id2); n != 1 {
		t.Errorf("deliver of the changed image %s: %d exports, want 1", id2, n)
	}
	if n := imageSaves(t, since, id1); n != 0 {
		t.Errorf("deliver of the changed image exported the old one %d times", n)
	}
	assertServedImage(t, v2)
	since = time.Now()
	mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve", "-v")
	if n := imageSaves(t, since, id2); n != 0 {
		t.Errorf("redeploy of the changed image: %d exports, want 0", n)
	}
	assertServedImage(t, v2)
}

func TestServeCacheCorruptLayerIsDetectedAndReadAgain(t *testing.T) {
	app := serveApp(t, 4)
	xdg := t.TempDir()
	v1 := app.Version()
	mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve")
	id := localImageID(t, imageRef(v1))
	layers := imageLayers(t, imageRef(v1))
	// Flip one byte in the middle of the first (4 MiB) layer's entry.
	p := filepath.Join(xdg, "kamal-go", "layers", "blobs", "sha256", strings.TrimPrefix(layers[0], "sha256:"))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("the first layer is not in the cache: %v", err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}

	removeNetnsImages(t, imageRef(v1))
	since := time.Now()
	stdout := mustRunEnv(t, app, cacheEnv(xdg), "build", "pull", "--serve", "-v")
	if n := imageSaves(t, since, id); n != 1 {
		t.Errorf("deliver with a corrupt cache entry: %d exports, want 1 (the entry read again)", n)
	}
	assertContains(t, "stdout", stdout, "corrupt layer cache entry", "reading "+imageRef(v1)+" again with docker image save")
	assertServedImage(t, v1)
	if got := fileDigest(t, p); "sha256:"+got != layers[0] {
		t.Errorf("cache entry of %s hashes to %s after the deliver", layers[0], got)
	}
}

func TestServeCacheSharedByTwoConcurrentDelivers(t *testing.T) {
	app := serveApp(t, 8)
	xdg := t.TempDir()
	v1 := app.Version()
	app.mustRun("build", "push", "--serve")
	id := localImageID(t, imageRef(v1))

	// Two kamal processes, one cache, an empty one: both read the image and
	// write the same layers at once, each to its own servers.
	since := time.Now()
	a := app.Start(cacheEnv(xdg), "build", "pull", "--serve", "-v", "-h", "netns1")
	b := app.Start(cacheEnv(xdg), "build", "pull", "--serve", "-v", "-h", "netns2,netns3")
	for _, r := range []*Started{a, b} {
		if stdout, stderr, exit := r.Wait(); exit != 0 {
			t.Fatalf("concurrent deliver exited %d\nstdout:\n%s\nstderr:\n%s", exit, stdout, stderr)
		}
	}
	if n := imageSaves(t, since, id); n < 1 || n > 2 {
		t.Errorf("two concurrent delivers on an empty cache: %d exports, want 1 or 2", n)
	}
	assertServedImage(t, v1)
	blobs := cachedBlobs(t, xdg)
	for p := range blobs {
		if got := "sha256:" + fileDigest(t, p); !strings.HasSuffix(got, filepath.Base(p)) {
			t.Errorf("cache entry %s hashes to %s", filepath.Base(p), got)
		}
	}
	if len(blobs) != 4 {
		t.Errorf("cache holds %d blobs, want the image's 4", len(blobs))
	}
	tmps, _ := filepath.Glob(filepath.Join(xdg, "kamal-go", "layers", "*", "sha256", ".tmp-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
	// The cache they filled serves both at once again, without an export.
	removeNetnsImages(t, imageRef(v1))
	since = time.Now()
	a = app.Start(cacheEnv(xdg), "build", "pull", "--serve", "-h", "netns1")
	b = app.Start(cacheEnv(xdg), "build", "pull", "--serve", "-h", "netns2,netns3")
	for _, r := range []*Started{a, b} {
		if stdout, stderr, exit := r.Wait(); exit != 0 {
			t.Fatalf("concurrent deliver from the cache exited %d\nstdout:\n%s\nstderr:\n%s", exit, stdout, stderr)
		}
	}
	if n := imageSaves(t, since, id); n != 0 {
		t.Errorf("two concurrent delivers from a full cache: %d exports, want 0", n)
	}
	assertServedImage(t, v1)
}

func TestServeCacheStaysWithinItsBound(t *testing.T) {
	app := serveApp(t, 4)
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	app.WriteFile("config/deploy.yml", cfg+"x-kamal-go:\n  serve:\n    cache_max_mb: 6\n", 0o644)
	app.Commit("a 6 MiB layer cache")
	xdg := t.TempDir()
	v1 := app.Version()
	mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve")
	assertServedImage(t, v1)
	var total int64
	for _, n := range cachedBlobs(t, xdg) {
		total += n
	}
	if total == 0 || total > 6<<20 {
		t.Errorf("cache holds %d bytes of blobs, want some and at most 6 MiB", total)
	}

	// cache_max_mb: 0 is no cache at all: nothing is written.
	app.WriteFile("config/deploy.yml", cfg+"x-kamal-go:\n  serve:\n    cache_max_mb: 0\n", 0o644)
	app.Commit("no layer cache")
	off := t.TempDir()
	mustRunEnv(t, app, cacheEnv(off), "build", "deliver", "--serve")
	if _, err := os.Stat(filepath.Join(off, "kamal-go")); err == nil {
		t.Error("cache_max_mb: 0 made a cache directory")
	}
	assertServedImage(t, app.Version())
}

// A buildx older than 0.13 (one --output per build; a stand-in docker
// answers `buildx version` as Debian's 0.10.2 does and passes the rest to
// the real one) builds as before, and the serve reads the image with one
// save.
func TestServeCacheOldBuildxBuildsWithOneOutputAndTheServeSaves(t *testing.T) {
	needBuildkitImage(t)
	app := serveApp(t, 1)
	trackBuilders(t, app, localBuilder)
	v1 := replaceBuilder(t, app, "  arch: amd64\n")
	dockerBin, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	app.writeHomeFile("bin/docker", "#!/bin/sh\nif [ \"$1 $2\" = \"buildx version\" ]; then echo 'github.com/docker/buildx 0.10.2+ds1 0.10.2+ds1-1'; exit 0; fi\nexec "+dockerBin+" \"$@\"\n")
	if err := os.Chmod(filepath.Join(app.Home, "bin/docker"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(cacheEnv(t.TempDir()), "PATH="+filepath.Join(app.Home, "bin")+":"+os.Getenv("PATH"))
	since := time.Now()
	stdout := mustRunEnv(t, app, env, "build", "deliver", "--serve", "-v")
	assertNotContains(t, "stdout", stdout, "--output=type=oci")
	assertContains(t, "stdout", stdout, "This buildx takes one --output per build", "Reading "+imageRef(v1)+" with docker image save")
	if n := imageSaves(t, since, localImageID(t, imageRef(v1))); n != 1 {
		t.Errorf("deliver with an old buildx: %d exports, want 1", n)
	}
	assertServedImage(t, v1)
	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

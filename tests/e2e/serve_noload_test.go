package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// With a BuildKit builder, --serve's build writes the image into the layer
// cache only (an OCI layout, no load into the local image store), and the
// serve finds it there by name.

// layoutImage is what the layer cache under xdg names ref as, read the way
// an OCI tool would (independently of kamal-go): the newest index.json
// entry of that name, its manifest, its config. It returns the config's
// digest (the image ID a registry pull gives) and the config.
func layoutImage(t *testing.T, xdg, ref string) (id string, diffIDs []string, labels map[string]string) {
	t.Helper()
	dir := filepath.Join(xdg, "kamal-go", "layers")
	var index struct {
		Manifests []struct {
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	readJSON := func(p string, v any) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("the layer cache: %v", err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	blob := func(d string) string { return filepath.Join(dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:")) }
	readJSON(filepath.Join(dir, "index.json"), &index)
	manifest := ""
	for _, m := range index.Manifests {
		if m.Annotations["io.containerd.image.name"] == ref {
			manifest = m.Digest
		}
	}
	if manifest == "" {
		t.Fatalf("the layer cache's index.json does not name %s", ref)
	}
	var m struct {
		Config struct{ Digest string } `json:"config"`
	}
	readJSON(blob(manifest), &m)
	var cfg struct {
		Config struct{ Labels map[string]string } `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	readJSON(blob(m.Config.Digest), &cfg)
	return m.Config.Digest, cfg.RootFS.DiffIDs, cfg.Config.Labels
}

// assertServedFromLayout checks that every server holds ref as the image
// the layer cache names: same ID (config digest), DiffIDs and labels.
func assertServedFromLayout(t *testing.T, xdg, ref string) string {
	t.Helper()
	id, diffIDs, labels := layoutImage(t, xdg, ref)
	if labels["service"] != "app" {
		t.Errorf("the built config's labels %v lack service=app", labels)
	}
	for _, h := range netnsHosts {
		out, err := exec.Command("docker", "-H", "unix://"+netnsSocket[h], "image", "inspect", "--format",
			"{{.Id}} {{json .RootFS.Layers}} {{json .Config.Labels}}", ref).Output()
		if err != nil {
			t.Errorf("%s has no %s: %v", h, ref, err)
			continue
		}
		var gotLayers []string
		var gotLabels map[string]string
		f := strings.SplitN(strings.TrimSpace(string(out)), " ", 3)
		json.Unmarshal([]byte(f[1]), &gotLayers)
		json.Unmarshal([]byte(f[2]), &gotLabels)
		if f[0] != id || !reflect.DeepEqual(gotLayers, diffIDs) || !reflect.DeepEqual(gotLabels, labels) {
			t.Errorf("%s has %s as %s %v %v, want %s %v %v", h, ref, f[0], gotLayers, gotLabels, id, diffIDs, labels)
		}
	}
	return id
}

// assertNotInLocalStore checks the build loaded nothing into the local
// image store.
func assertNotInLocalStore(t *testing.T, ref string) {
	t.Helper()
	if err := exec.Command("docker", "image", "inspect", ref).Run(); err == nil {
		t.Errorf("the local image store has %s: the build loaded it", ref)
	}
}

func TestServeBuildKitBuildWritesOnlyTheLayerCacheAndTheServeFindsTheImageByName(t *testing.T) {
	needBuildkitImage(t)
	app := serveApp(t, 4)
	trackBuilders(t, app, localBuilder)
	// Kamal 2's default builder: docker-container.
	v1 := replaceBuilder(t, app, "  arch: amd64\n")
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "--force", imageRef(v1)).Run() })
	exec.Command("docker", "image", "rm", "--force", imageRef(v1)).Run()
	xdg := t.TempDir()
	since := time.Now()
	stdout := mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve", "-v")
	assertContains(t, "stdout", stdout,
		"docker buildx build --output=type=oci,dest="+filepath.Join(xdg, "kamal-go", "layers")+",tar=false,compression=uncompressed,force-compression=true ",
		"from the layer cache its build wrote (image ")
	assertNotContains(t, "stdout", stdout, "--output=type=docker")
	assertNotInLocalStore(t, imageRef(v1))
	id1 := assertServedFromLayout(t, xdg, imageRef(v1))
	if n := imageSaves(t, since, id1); n != 0 {
		t.Errorf("first deliver with a BuildKit builder: %d exports, want 0", n)
	}

	// One small layer changed: the build writes it, and the servers fetch
	// only it.
	app.WriteFile(".nonce", fmt.Sprintf("changed %d\n", time.Now().UnixNano()), 0o644)
	v2 := app.Commit("change the small layer")
	t.Cleanup(func() { exec.Command("docker", "image", "rm", "--force", imageRef(v2)).Run() })
	stdout = mustRunEnv(t, app, cacheEnv(xdg), "build", "deliver", "--serve", "-v")
	assertNotInLocalStore(t, imageRef(v2))
	id2 := assertServedFromLayout(t, xdg, imageRef(v2))
	if id2 == id1 {
		t.Errorf("the changed image has the first one's ID %s", id1)
	}
	_, layers, _ := layoutImage(t, xdg, imageRef(v2))
	if n := servedBlobs(stdout, "", layers[:len(layers)-1]); n != 0 {
		t.Errorf("the changed image's deliver sent %d unchanged layers, want 0", n)
	}
	if n := servedBlobs(stdout, "", layers[len(layers)-1:]); n != len(netnsHosts) {
		t.Errorf("the changed layer was sent %d times, want once per server (%d)", n, len(netnsHosts))
	}

	// A corrupt layer neither: the servers fail, saying what to do.
	changed := filepath.Join(xdg, "kamal-go", "layers", "blobs", "sha256", strings.TrimPrefix(layers[len(layers)-1], "sha256:"))
	b, err := os.ReadFile(changed)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(changed, b, 0o600); err != nil {
		t.Fatal(err)
	}
	removeNetnsImages(t, imageRef(v2))
	start := time.Now()
	out, errOut, exit := app.RunEnv(cacheEnv(xdg), "build", "pull", "--serve", "-v")
	took := time.Since(start)
	if exit != 1 {
		t.Errorf("pull --serve with a corrupt layer: exit %d, want 1", exit)
	}
	for _, h := range netnsHosts {
		assertContains(t, "output", out+errOut, "Exception while executing on host "+h+": dockerd refused localhost:5000/app:"+v2+
			": unsupported: layer cache: "+layers[len(layers)-1]+":")
	}
	assertContains(t, "output", out+errOut, "corrupt layer cache entry (removed), and "+imageRef(v2)+" is not in the local image store to read it again: run kamal build push --serve (or deliver --serve) again: the build rewrites it")
	t.Logf("pull --serve with a corrupt layer failed in %v", took)

	// A layer gone from the cache cannot be read with docker image save
	// (the image is not in the local store): one clear line, and a build
	// writes it again; then push and pull as two commands.
	os.Remove(changed)
	out, errOut, exit = app.RunEnv(cacheEnv(xdg), "build", "pull", "--serve")
	if exit != 1 {
		t.Errorf("pull --serve with a layer gone: exit %d, want 1", exit)
	}
	assertContains(t, "output", out+errOut, "Cannot serve "+imageRef(v2)+": "+layers[len(layers)-1]+": not in the layer cache, and "+imageRef(v2)+
		" is not in the local image store to read it again: run kamal build push --serve (or deliver --serve) again: the build rewrites it")
	mustRunEnv(t, app, cacheEnv(xdg), "build", "push", "--serve")
	if got := "sha256:" + fileDigest(t, changed); got != layers[len(layers)-1] {
		t.Errorf("the rebuild left the removed layer as %s, want %s", got, layers[len(layers)-1])
	}
	assertNotInLocalStore(t, imageRef(v2))
	stdout = mustRunEnv(t, app, cacheEnv(xdg), "build", "pull", "--serve", "-v")
	assertContains(t, "stdout", stdout, "from the layer cache its build wrote (image "+id2+", not in the local image store)")
	if got := assertServedFromLayout(t, xdg, imageRef(v2)); got != id2 {
		t.Errorf("the rebuild is image %s, want %s (same commit, same build)", got, id2)
	}

	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

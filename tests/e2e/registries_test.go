package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Registry login without the password in any process's arguments, the
// Kamal 2 local registry, and a clone build with uncommitted changes.

// argsWatcher reads the command line of every process on this machine
// (the servers' sshd sessions and shells are local processes too) over
// and over until stopped, keeping the ones that mention any of terms.
type argsWatcher struct {
	terms []string
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	seen  map[string]bool
}

func watchArgs(terms ...string) *argsWatcher {
	w := &argsWatcher{terms: terms, stop: make(chan struct{}), done: make(chan struct{}), seen: map[string]bool{}}
	go func() {
		defer close(w.done)
		self := fmt.Sprint(os.Getpid())
		for {
			select {
			case <-w.stop:
				return
			default:
			}
			entries, _ := os.ReadDir("/proc")
			for _, e := range entries {
				if e.Name() == self || e.Name()[0] < '0' || e.Name()[0] > '9' {
					continue
				}
				b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
				if err != nil || len(b) == 0 {
					continue
				}
				args := strings.TrimSpace(string(bytes.ReplaceAll(b, []byte{0}, []byte{' '})))
				for _, term := range w.terms {
					if strings.Contains(args, term) {
						w.mu.Lock()
						w.seen[args] = true
						w.mu.Unlock()
					}
				}
			}
		}
	}()
	return w
}

// Stop ends the watch and returns the matching command lines seen.
func (w *argsWatcher) Stop() []string {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for a := range w.seen {
		out = append(out, a)
	}
	return out
}

func TestKamal2LoginKeepsThePasswordOutOfEveryProcesssArguments(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}") // logged out: the pull needs kamal's login
	}

	w := watchArgs(rig.Password, "docker login")
	stdout := app.mustRun("build", "deliver")
	seen := w.Stop()

	for _, args := range seen {
		if strings.Contains(args, rig.Password) {
			t.Errorf("a process ran with the registry password in its arguments: %q", args)
		}
	}
	// The watch must have caught logins, or it proves nothing: the
	// local one and the servers' (sshd runs them through bash -c).
	var logins int
	for _, args := range seen {
		if strings.Contains(args, "docker login "+rig.Registry+" -u ") && strings.Contains(args, "--password-stdin") {
			logins++
		}
	}
	if logins == 0 {
		t.Errorf("saw no docker login process while kamal ran (seen: %q)", seen)
	}
	// The log reads as Kamal's.
	assertContains(t, "stdout", stdout,
		"Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on localhost\n",
		"Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on server1\n")
	assertNotContains(t, "stdout", stdout, rig.Password, "--password-stdin")
	// And the logins worked: the servers pulled with the credentials kamal gave them.
	assertPushed(t, version)
	assertPulledOn(t, version, rig.Hosts...)
	for _, h := range rig.Hosts {
		if cfg := readFile(t, serverFile(h, ".docker/config.json")); !strings.Contains(cfg, rig.Registry) {
			t.Errorf("%s's docker config has no login for %s: %s", h, rig.Registry, cfg)
		}
	}
}

func TestKamal2CloneBuildLeavesUncommittedChangesOutOfTheImage(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()
	committed := readFile(t, filepath.Join(app.Dir, "index.html"))
	app.WriteFile("index.html", "<p>uncommitted edit</p>\n", 0o644)
	app.WriteFile("untracked.txt", "not in git\n", 0o644)

	stdout := app.mustRun("build", "push")

	assertContains(t, "stdout", stdout,
		"Building from a local git clone, so ignoring these uncommitted changes:\n M index.html\n?? untracked.txt\n",
		"Cloning repo into build directory `")
	assertPushed(t, version) // the tag is HEAD's sha, without _uncommitted_
	if got := registryImageFile(t, "app", version, "index.html"); got != committed {
		t.Errorf("the image's index.html is %q, want the committed %q", got, committed)
	}
}

func TestKamal2ContextBuildTagsUncommittedChanges(t *testing.T) {
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	app.WriteFile("config/deploy.yml", strings.Replace(cfg, "  driver: docker\n", "  driver: docker\n  context: .\n", 1), 0o644)
	head := app.Commit("build from the working tree")
	app.WriteFile("index.html", "<p>uncommitted edit</p>\n", 0o644)

	stdout := app.mustRun("build", "push")

	assertContains(t, "stdout", stdout, "Building with uncommitted changes:\n M index.html\n", "-t "+rig.Registry+"/app:"+head+"_uncommitted_")
	var tag string
	for _, tg := range registryTags(t, "app") {
		if strings.HasPrefix(tg, head+"_uncommitted_") {
			tag = tg
		}
	}
	if tag == "" {
		t.Fatalf("no app:%s_uncommitted_* tag in the registry", head)
	}
	if got := registryImageFile(t, "app", tag, "index.html"); got != "<p>uncommitted edit</p>\n" {
		t.Errorf("the context build's index.html is %q, want the working tree's", got)
	}
}

// registryImageFile reads path from the image repo:tag in the rig's
// registry, through its API: the manifest, then the layers, last first.
func registryImageFile(t *testing.T, repo, tag, path string) string {
	t.Helper()
	resp := registryGet(t, "GET", "/v2/"+repo+"/manifests/"+tag, map[string]string{
		"Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json",
	})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m struct {
		Manifests []struct {
			Digest   string
			Platform struct{ Architecture, OS string }
		}
		Layers []struct{ Digest string }
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("manifest of %s:%s: %v\n%s", repo, tag, err, body)
	}
	if len(m.Manifests) > 0 { // an index: take the linux/amd64 image
		for _, d := range m.Manifests {
			if d.Platform.OS == "linux" && d.Platform.Architecture == "amd64" {
				return registryImageFile(t, repo, d.Digest, path)
			}
		}
		t.Fatalf("%s:%s has no linux/amd64 image: %s", repo, tag, body)
	}
	for i := len(m.Layers) - 1; i >= 0; i-- {
		resp := registryGet(t, "GET", "/v2/"+repo+"/blobs/"+m.Layers[i].Digest, nil)
		blob, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var r io.Reader = bytes.NewReader(blob)
		if gz, err := gzip.NewReader(bytes.NewReader(blob)); err == nil {
			r = gz
		}
		tr := tar.NewReader(r)
		for {
			h, err := tr.Next()
			if err != nil {
				break
			}
			if strings.TrimPrefix(h.Name, "./") == path {
				b, _ := io.ReadAll(tr)
				return string(b)
			}
		}
	}
	t.Fatalf("%s:%s has no %s", repo, tag, path)
	return ""
}

// --- Kamal 2 local registry --------------------------------------------------

// localRegistryImage is the image Kamal 2 runs its local registry from.
// Nothing here can pull it, so it is made from Debian's docker-registry
// (the same distribution registry) with `docker import`.
const localRegistryImage = "registry:3"

func needLocalRegistryImage(t *testing.T) {
	t.Helper()
	needRig(t)
	if exec.Command("docker", "image", "inspect", localRegistryImage).Run() == nil {
		return
	}
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("no registry:3 image and no docker-registry binary (Debian package docker-registry) to make one")
	}
	root := t.TempDir()
	files := []string{bin}
	out, err := exec.Command("ldd", bin).Output()
	if err == nil {
		for _, f := range strings.Fields(string(out)) {
			if strings.HasPrefix(f, "/") {
				files = append(files, f)
			}
		}
	}
	for _, f := range files {
		dst := filepath.Join(root, f)
		if f == bin {
			dst = filepath.Join(root, "usr/bin/docker-registry")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n  delete:\n    enabled: true\nhttp:\n  addr: :5000\n"
	os.MkdirAll(filepath.Join(root, "etc/docker/registry"), 0o755)
	os.MkdirAll(filepath.Join(root, "var/lib/registry"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/docker/registry/config.yml"), []byte(cfg), 0o644)
	tarCmd := exec.Command("tar", "-C", root, "-c", ".")
	imp := exec.Command("docker", "import",
		"--change", `ENTRYPOINT ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]`,
		"--change", "EXPOSE 5000", "-", localRegistryImage)
	pipe, _ := tarCmd.StdoutPipe()
	imp.Stdin = pipe
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := imp.Start(); err != nil {
		t.Fatal(err)
	}
	if err := tarCmd.Run(); err != nil {
		t.Fatal(err)
	}
	if err := imp.Wait(); err != nil {
		t.Fatalf("docker import %s: %v\n%s", localRegistryImage, err, impOut.String())
	}
}

// freePort is a TCP port nothing listens on at 127.0.0.1 right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// localRegistryApp is app-kamal2 configured for a local registry on port.
func localRegistryApp(t *testing.T, port int) *App {
	t.Helper()
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	i, j := strings.Index(cfg, "registry:\n"), strings.Index(cfg, "builder:\n")
	cfg = cfg[:i] + fmt.Sprintf("registry:\n  server: localhost:%d\n\n", port) + cfg[j:]
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	app.Commit("local registry")
	t.Cleanup(func() { exec.Command("docker", "rm", "--force", "kamal-docker-registry").Run() })
	exec.Command("docker", "rm", "--force", "kamal-docker-registry").Run()
	return app
}

func localRegistryTags(t *testing.T, port int, repo string) string {
	t.Helper()
	out, err := exec.Command("curl", "--noproxy", "*", "-sf", fmt.Sprintf("http://127.0.0.1:%d/v2/%s/tags/list", port, repo)).Output()
	if err != nil {
		t.Fatalf("listing %s in the local registry: %v", repo, err)
	}
	return string(out)
}

func TestKamal2LocalRegistryPushRunsTheRegistryAndPushesWithoutLogin(t *testing.T) {
	needLocalRegistryImage(t)
	port := freePort(t)
	app := localRegistryApp(t, port)
	version := app.Version()

	stdout := app.mustRun("build", "push")

	assertContains(t, "stdout", stdout, fmt.Sprintf("Running docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:%d:5000 --name kamal-docker-registry registry:3 on localhost\n", port))
	assertNotContains(t, "stdout", stdout, "docker login")
	if tags := localRegistryTags(t, port, "app"); !strings.Contains(tags, version) || !strings.Contains(tags, `"latest"`) {
		t.Errorf("the local registry's app tags are %s, want %s and latest", tags, version)
	}
}

// On this rig the servers share this machine's loopback: the forward
// Kamal asks each server for (its 127.0.0.1:PORT back to localhost:PORT)
// collides with the local registry itself, published on 127.0.0.1:PORT.
// The real sshd refuses the forward, and kamal must stop with Kamal's
// error before pulling anything. (The forward itself is tested against
// the same sshds on distinct ports in forward_test.go.)
func TestKamal2LocalRegistryPullStopsWhenAServerRefusesTheForward(t *testing.T) {
	needLocalRegistryImage(t)
	port := freePort(t)
	app := localRegistryApp(t, port)
	version := app.Version()
	app.mustRun("build", "push")

	stdout, stderr, exit := app.Run("build", "pull", "-h", "server1")

	assertFailed(t, stdout, stderr, exit, "RuntimeError", "Failed to establish port forward on server1")
	assertContains(t, "stdout", stdout,
		"Setting up local registry port forwarding to server1...\n",
		" ERROR Error setting up port forwarding to server1: RuntimeError: Failed to establish port forward on server1\n")
	assertNotContains(t, "stdout", stdout, "docker pull", "docker login")
	assertNotPulledOn(t, version, "server1")
}

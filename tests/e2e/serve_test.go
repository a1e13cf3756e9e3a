package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kamal build deliver/pull --serve on tests/rig/netns: this program serves
// the image from the local image store through each server's forward, and
// each server's own dockerd pulls localhost:5000/app:VERSION. What a server
// fetched is read from the server side: its dockerd's pull output (under
// -v), where every layer is "Already exists" or "Pull complete".

const servePort = 5000

// serveApp is app-kamal2 deployed to netns1..3, with an image of four
// layers: two of random data (each sizeMB), index.html and the nonce file
// (the small layer a new commit changes).
func serveApp(t *testing.T, sizeMB int) *App {
	t.Helper()
	needNetnsRig(t)
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	cfg = strings.Replace(cfg, "  - server1\n  - server2\n  - server3\n", "  - netns1\n  - netns2\n  - netns3\n", 1)
	cfg = strings.Replace(cfg, `port: <%= ENV.fetch("RIG_SSH_PORT", "22") %>`, "port: 22", 1)
	if !strings.Contains(cfg, "  - netns3\n") || !strings.Contains(cfg, "port: 22\n") {
		t.Fatalf("could not point the config at netns1..3:\n%s", cfg)
	}
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	for _, f := range []string{"data1.bin", "data2.bin"} {
		b := make([]byte, sizeMB<<20)
		rand.Read(b)
		app.WriteFile(f, string(b), 0o644)
	}
	app.WriteFile("Dockerfile", "FROM scratch\nCOPY data1.bin /data1.bin\nCOPY data2.bin /data2.bin\nCOPY index.html /index.html\nCOPY .nonce /nonce\n", 0o644)
	app.Commit("a four-layer image for netns1..3")
	t.Cleanup(func() {
		for _, v := range app.versions {
			removeNetnsImages(t, imageRef(v))
			removeNetnsImages(t, localRegistryRef(servePort, v))
		}
	})
	return app
}

// imageLayers is the image's layer digests (DiffIDs: what --serve serves)
// in the local store, base first.
func imageLayers(t *testing.T, ref string) []string {
	t.Helper()
	out, err := exec.Command("docker", "image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).Output()
	if err != nil {
		t.Fatalf("docker image inspect %s: %v", ref, err)
	}
	var layers []string
	if err := json.Unmarshal(out, &layers); err != nil {
		t.Fatal(err)
	}
	return layers
}

// pullReport is what one host's `docker pull` said of each layer, by the
// 12-digit short id docker prints: "Already exists" or "Pull complete".
func pullReport(t *testing.T, stdout, host, ref string) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`INFO \[([0-9a-f]+)\] Running docker pull ` + regexp.QuoteMeta(ref) + ` on ` + host + "\n").FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no docker pull of %s on %s in stdout", ref, host)
	}
	report := map[string]string{}
	re := regexp.MustCompile(`DEBUG \[` + m[1] + `\] \s*([0-9a-f]{12}): (Already exists|Pull complete)`)
	for _, l := range re.FindAllStringSubmatch(stdout, -1) {
		report[l[1]] = l[2]
	}
	return report
}

func short(digest string) string { return strings.TrimPrefix(digest, "sha256:")[:12] }

// servedBlobs counts the layer blobs kamal logged as sent to host (-v).
func servedBlobs(stdout, host string, layers []string) int {
	n := 0
	for _, l := range layers {
		n += strings.Count(stdout, "Served "+l+" (")
	}
	_ = host
	return n
}

func assertServed(t *testing.T, app *App, version string) {
	t.Helper()
	for _, h := range netnsHosts {
		if !netnsImageExists(t, h, imageRef(version)) {
			t.Errorf("%s's own dockerd has no %s", h, imageRef(version))
		}
		if netnsImageExists(t, h, localRegistryRef(servePort, version)) {
			t.Errorf("%s's dockerd keeps the served name %s", h, localRegistryRef(servePort, version))
		}
		if log := netnsAuditLog(t, h); !strings.Contains(log, pulledLine(version)) {
			t.Errorf("%s's audit log lacks %q", h, pulledLine(version))
		}
	}
}

func assertNoServeListener(t *testing.T) {
	t.Helper()
	for _, h := range netnsHosts {
		out, _ := exec.Command("ip", "netns", "exec", "kgo-n"+h[len(h)-1:], "ss", "-Hltn").Output()
		if strings.Contains(string(out), fmt.Sprintf("127.0.0.1:%d ", servePort)) {
			t.Errorf("%s still listens on 127.0.0.1:%d after kamal exited:\n%s", h, servePort, out)
		}
	}
}

func TestServeDeliverPutsTheImageOnEveryServerThenSendsOnlyTheChangedLayer(t *testing.T) {
	app := serveApp(t, 4)
	v1 := app.Version()

	stdout := app.mustRun("build", "deliver", "--serve", "-v")
	assertContains(t, "stdout", stdout,
		"Serving "+imageRef(v1)+" from this machine to netns1, netns2, netns3 on localhost:5000...\n",
		"docker buildx build --output=type=docker ")
	assertNotContains(t, "stdout", stdout, "docker login", "docker push", "docker image rm --force "+imageRef(v1))
	assertServed(t, app, v1)
	layers := imageLayers(t, imageRef(v1))
	if len(layers) != 4 {
		t.Fatalf("image has %d layers, want 4", len(layers))
	}
	for _, h := range netnsHosts {
		rep := pullReport(t, stdout, h, localRegistryRef(servePort, v1))
		for _, l := range layers {
			if rep[short(l)] != "Pull complete" {
				t.Errorf("first deliver: %s says %q of layer %s, want Pull complete", h, rep[short(l)], short(l))
			}
		}
	}
	assertNoServeListener(t)

	// Pulling the same image again: every layer is there, nothing is sent.
	stdout = app.mustRun("build", "pull", "--serve", "-v")
	for _, h := range netnsHosts {
		if rep := pullReport(t, stdout, h, localRegistryRef(servePort, v1)); len(rep) != 0 {
			t.Errorf("second pull of the same image: %s reports layers %v, want none fetched", h, rep)
		}
	}
	if n := servedBlobs(stdout, "", layers); n != 0 {
		t.Errorf("second pull of the same image sent %d layer blobs, want 0", n)
	}
	assertServed(t, app, v1)

	// One small layer changes (the nonce file): only it is fetched.
	app.WriteFile(".nonce", fmt.Sprintf("changed %d\n", time.Now().UnixNano()), 0o644)
	v2 := app.Commit("change the small layer")
	stdout = app.mustRun("build", "deliver", "--serve", "-v")
	assertServed(t, app, v2)
	layers2 := imageLayers(t, imageRef(v2))
	if len(layers2) != 4 || layers2[0] != layers[0] || layers2[1] != layers[1] || layers2[3] == layers[3] {
		t.Fatalf("want the same three lower layers and a new top layer:\n%v\n%v", layers, layers2)
	}
	for _, h := range netnsHosts {
		rep := pullReport(t, stdout, h, localRegistryRef(servePort, v2))
		for i, l := range layers2 {
			want := "Already exists"
			if i == 3 {
				want = "Pull complete"
			}
			if rep[short(l)] != want {
				t.Errorf("second deliver: %s says %q of layer %d (%s), want %s", h, rep[short(l)], i, short(l), want)
			}
		}
	}
	if n := servedBlobs(stdout, "", layers2[:3]); n != 0 {
		t.Errorf("second deliver sent %d of the unchanged layers, want 0", n)
	}
	if n := servedBlobs(stdout, "", layers2[3:]); n != 3 {
		t.Errorf("second deliver sent the changed layer %d times, want 3 (once per server)", n)
	}
}

// netnsDockerdPid is the pid of host's dockerd (its own pidfile).
func netnsDockerdPid(t *testing.T, host string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(netnsSocket[host]), "dockerd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	return pid
}

func TestServeServesServersConcurrentlyAndAnInterruptLeavesNothing(t *testing.T) {
	app := serveApp(t, 16)
	version := app.Version()
	app.mustRun("build", "push", "--serve")

	// netns1's dockerd stops in the middle of its pull; netns2 and netns3
	// must still get the image, served at the same time.
	pid := netnsDockerdPid(t, "netns1")
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	run := app.Start(nil, "build", "pull", "--serve", "-v")
	run.WaitForText("Running docker pull "+localRegistryRef(servePort, version)+" on netns1\n", 1)
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitForNetnsImages(t, imageRef(version), "netns2", "netns3")
	run.Signal(syscall.SIGINT)
	stdout, stderr, exit := run.Wait()
	syscall.Kill(pid, syscall.SIGCONT)

	if exit != 130 {
		t.Errorf("exit status %d, want 130", exit)
	}
	if r := errorReport(stdout, stderr); !strings.Contains(r, "ERROR (Interrupt): Interrupted while running docker pull "+localRegistryRef(servePort, version)+" on netns1") {
		t.Errorf("error report: %q", r)
	}
	assertNoServeListener(t)
	// netns1's dockerd, running again, ends the pull it was in: no tag.
	time.Sleep(2 * time.Second)
	for _, ref := range []string{imageRef(version), localRegistryRef(servePort, version)} {
		if netnsImageExists(t, "netns1", ref) {
			t.Errorf("netns1 has %s after the interrupted pull", ref)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", "docker image save "+imageRef(version)).Output(); len(out) > 0 {
		t.Errorf("docker image save processes left: %s", out)
	}
}

func TestServeToADockerdElsewhereSaysWhyInOneLine(t *testing.T) {
	app := serveApp(t, 1)
	version := app.Version()
	app.mustRun("build", "push", "--serve")

	// netns2's docker CLI talks to netns3's dockerd, in another network
	// namespace (as with rootless docker, a VM or a remote DOCKER_HOST):
	// that dockerd's localhost is not where the forward listens.
	sock := netnsSocket["netns2"]
	if err := os.Rename(sock, sock+".moved"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(sock); os.Rename(sock+".moved", sock) })
	if err := os.Symlink(netnsSocket["netns3"], sock); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, exit := app.Run("build", "pull", "--serve", "-h", "netns2")
	os.Remove(sock)
	os.Rename(sock+".moved", sock)

	if exit != 1 {
		t.Errorf("exit status %d, want 1", exit)
	}
	report := errorReport(stdout, stderr)
	want := "  ERROR (RuntimeError): Exception while executing on host netns2: dockerd did not reach " + localRegistryRef(servePort, version) + " through the forward ("
	if !strings.HasPrefix(report, want) || strings.Contains(report, "\n") || !strings.Contains(report, "connection refused") {
		t.Errorf("error report:\n%s\nwant one line starting %q and naming the refused connection", report, want)
	}
	assertNoServeListener(t)
}

func TestServeDryRunPrintsTheServedPull(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()
	stdout := app.mustRun("build", "deliver", "--serve", "--dry-run")
	served := localRegistryRef(servePort, version)
	assertContains(t, "stdout", stdout,
		"docker buildx build --output=type=docker ",
		"Serving "+imageRef(version)+" from this machine to server1, server2, server3 on localhost:5000...\n",
		"Running docker pull "+served+" on server1\n",
		"Running docker tag "+served+" "+imageRef(version)+" && docker image rm --force "+served+" on server2\n",
		"Running docker inspect -f '{{ .Config.Labels.service }}' "+imageRef(version))
	assertNotContains(t, "stdout", stdout, "docker login", "docker push")

	script := app.mustRun("build", "script")
	assertContains(t, "kamal build script", script, "ssh.serve(hosts, config.absolute_image, port,", "def pull_served_on_host(host, served):")

	// Kamal 1.5's flow: the same serving inside the deploy lock, and the
	// native build without its docker push.
	k1 := newApp(t, "app")
	v := k1.Version()
	stdout = k1.mustRun("build", "deliver", "--serve", "--dry-run")
	assertContains(t, "Kamal 1 stdout", stdout,
		"Acquiring the deploy lock...",
		"Serving "+imageRef(v)+" from this machine to server1, server2, server3 on localhost:5000...\n",
		"Running docker pull "+localRegistryRef(servePort, v)+" on server1\n",
		"Releasing the deploy lock...")
	assertNotContains(t, "Kamal 1 stdout", stdout, "docker push", "docker login")
}

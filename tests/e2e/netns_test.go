package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Two Kamal 2 pull paths the main rig cannot show, because its servers
// share this machine's loopback and its one dockerd: the pull through the
// forwarded local registry port, and mirror seeding. They run against
// tests/rig/netns: servers netns1..3, each a network namespace with its own
// loopback, dockerd (reporting its own registry mirror) and sshd on port 22.
// The mini-rig is started on first use and stopped when the suite ends.

var netnsHosts = []string{"netns1", "netns2", "netns3"}

// Each netns server's dockerd socket, as tests/rig/netns starts them.
var netnsSocket = map[string]string{
	"netns1": "/run/kgo-n1/docker.sock",
	"netns2": "/run/kgo-n2/docker.sock",
	"netns3": "/run/kgo-n3/docker.sock",
}

var (
	netnsOnce    sync.Once
	netnsStarted bool
	netnsSkip    string // why the mini-rig cannot run here (exit 3 of the script)
	netnsErr     error  // any other failure to start it
)

// needNetnsRig brings tests/rig/netns up once; it skips the test when the
// script says this machine cannot run it (exit 3), and fails it otherwise.
func needNetnsRig(t *testing.T) {
	t.Helper()
	needLocalRegistryImage(t) // also needRig
	netnsOnce.Do(func() {
		out, err := exec.Command(filepath.Join(repoRoot, "tests/rig/netns"), "up").CombinedOutput()
		netnsStarted = true // whatever happened, down cleans up what was recorded
		var exitErr *exec.ExitError
		switch {
		case errors.As(err, &exitErr) && exitErr.ExitCode() == 3:
			netnsSkip = "tests/rig/netns cannot run here: " + strings.TrimSpace(string(out))
		case err != nil:
			netnsErr = fmt.Errorf("tests/rig/netns up: %v\n%s", err, out)
		}
	})
	if netnsSkip != "" {
		t.Skip(netnsSkip)
	}
	if netnsErr != nil {
		t.Fatal(netnsErr)
	}
}

// stopNetnsRig stops the mini-rig if a test started it (called by runMain).
func stopNetnsRig() {
	if !netnsStarted {
		return
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "tests/rig/netns"), "down").CombinedOutput(); err != nil {
		fmt.Printf("e2e: tests/rig/netns down: %v\n%s", err, out)
	}
}

// netnsApp is app-kamal2 deployed to netns1..3 (ssh port 22) with a Kamal 2
// local registry on port.
func netnsApp(t *testing.T, port int) *App {
	t.Helper()
	app := localRegistryApp(t, port)
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	cfg = strings.Replace(cfg, "  - server1\n  - server2\n  - server3\n", "  - netns1\n  - netns2\n  - netns3\n", 1)
	cfg = strings.Replace(cfg, `port: <%= ENV.fetch("RIG_SSH_PORT", "22") %>`, "port: 22", 1)
	if !strings.Contains(cfg, "  - netns3\n") || !strings.Contains(cfg, "port: 22\n") {
		t.Fatalf("could not point the config at netns1..3:\n%s", cfg)
	}
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	app.Commit("netns servers")
	return app
}

func localRegistryRef(port int, version string) string {
	return fmt.Sprintf("localhost:%d/app:%s", port, version)
}

// netnsImageExists says whether host's own dockerd has ref.
func netnsImageExists(t *testing.T, host, ref string) bool {
	t.Helper()
	err := exec.Command("docker", "-H", "unix://"+netnsSocket[host], "image", "inspect", ref).Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("docker image inspect on %s: %v", host, err)
	}
	return err == nil
}

// removeNetnsImages drops ref from every netns server's dockerd, before (a
// pull must fetch it) and after the test (keep their data roots small).
func removeNetnsImages(t *testing.T, ref string) {
	t.Helper()
	for _, h := range netnsHosts {
		exec.Command("docker", "-H", "unix://"+netnsSocket[h], "image", "rm", "--force", ref).Run()
	}
}

func netnsAuditLog(t *testing.T, host string) string {
	t.Helper()
	b, _ := exec.Command("cat", filepath.Join(repoRoot, "tests/rig/.state/netns/servers", host, ".kamal/app-audit.log")).Output()
	return string(b)
}

func TestKamal2LocalRegistryPullThroughTheForwardedPort(t *testing.T) {
	needNetnsRig(t)
	port := freePort(t)
	app := netnsApp(t, port)
	version := app.Version()
	ref := localRegistryRef(port, version)
	removeNetnsImages(t, ref)
	t.Cleanup(func() { removeNetnsImages(t, ref); exec.Command("docker", "image", "rm", "--force", ref).Run() })

	app.mustRun("build", "push")
	stdout := app.mustRun("build", "pull")

	assertContains(t, "stdout", stdout,
		"Setting up local registry port forwarding to netns1, netns2, netns3...\n",
		"Running docker pull "+ref+" on netns1\n",
		"Running docker pull "+ref+" on netns2\n",
		"Running docker pull "+ref+" on netns3\n")
	assertNotContains(t, "stdout", stdout, "docker login", "ERROR")
	for _, h := range netnsHosts {
		if !netnsImageExists(t, h, ref) {
			t.Errorf("%s's own dockerd (%s) has no %s after the pull", h, netnsSocket[h], ref)
		}
		if log := netnsAuditLog(t, h); !strings.Contains(log, pulledLine(version)) {
			t.Errorf("%s's .kamal/app-audit.log lacks %q:\n%s", h, pulledLine(version), log)
		}
	}
	// The forwards are gone once kamal is done: no server listens on the port.
	for _, h := range netnsHosts {
		c := exec.Command("ssh", "-F", "none", "-i", rig.SSHKey, "-p", "22", "-o", "BatchMode=yes",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
			"root@"+h, fmt.Sprintf("curl -s --noproxy '*' -o /dev/null http://127.0.0.1:%d/v2/", port))
		if c.Run() == nil {
			t.Errorf("%s still reaches the local registry on 127.0.0.1:%d after kamal exited", h, port)
		}
	}
}

func TestKamal2MirrorSeedingPullsOnOneHostPerMirrorFirst(t *testing.T) {
	needNetnsRig(t)
	port := freePort(t)
	app := netnsApp(t, port)
	version := app.Version()
	ref := localRegistryRef(port, version)
	removeNetnsImages(t, ref)
	t.Cleanup(func() { removeNetnsImages(t, ref); exec.Command("docker", "image", "rm", "--force", ref).Run() })

	stdout := app.mustRun("build", "deliver")

	// netns1 and netns2 report mirror-a, netns3 mirror-b (tests/rig/netns).
	for _, h := range netnsHosts {
		assertContains(t, "stdout", stdout, "Running docker info --format '{{index .RegistryConfig.Mirrors 0}}' on "+h+"\n")
	}
	seed := "Pulling image on netns1, netns3 to seed the mirrors...\n"
	rest := "Pulling image on remaining hosts...\n"
	assertContains(t, "stdout", stdout, seed, rest)
	at := func(s string) int {
		i := strings.Index(stdout, s)
		if i < 0 {
			t.Fatalf("stdout lacks %q", s)
		}
		return i
	}
	pull := func(h string) int { return at("Running docker pull " + ref + " on " + h + "\n") }
	if !(at(seed) < pull("netns1") && at(seed) < pull("netns3") && pull("netns1") < at(rest) && pull("netns3") < at(rest) && at(rest) < pull("netns2")) {
		t.Errorf("want the seed line, the pulls on netns1 and netns3, the remaining-hosts line, then the pull on netns2, in that order")
	}
	for _, h := range netnsHosts {
		if !netnsImageExists(t, h, ref) {
			t.Errorf("%s's own dockerd (%s) has no %s after the deliver", h, netnsSocket[h], ref)
		}
	}
}

package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// A second push with --skip-existing finds the version in the registry
// and builds and pushes nothing; a pull with --skip-existing pulls where
// the server's image is not the registry's and, once it is, only checks
// its label.
func TestSkipExistingSkipsTheBuildAndThePullsAlreadyDone(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	first := app.mustRun("build", "push", "--skip-existing")
	building := regexp.MustCompile(`(?m)^  INFO \[[0-9a-f]{8}\] Running .*docker (buildx )?build `)
	if !building.MatchString(first) {
		t.Fatalf("the first push --skip-existing built nothing:\n%s", first)
	}

	second := app.mustRun("build", "push", "--skip-existing")
	if building.MatchString(second) || strings.Contains(second, "Running") {
		t.Errorf("the second push --skip-existing ran commands:\n%s", second)
	}
	assertContains(t, "stdout", second, "  INFO Image "+imageRef(version)+" is already in the registry, skipping the build and push (--skip-existing)\n")

	// The rig's servers share one dockerd: without the image there, every
	// server pulls.
	if out, err := exec.Command("docker", "image", "rm", "--force", imageRef(version)).CombinedOutput(); err != nil {
		t.Fatalf("docker image rm: %v\n%s", err, out)
	}
	pulled := app.mustRun("build", "pull", "--skip-existing")
	for _, cmd := range []string{"docker pull", "docker image rm"} {
		if n := countRunning(pulled, cmd); n != len(rig.Hosts) {
			t.Errorf("pull --skip-existing without the image: %d %q, want %d:\n%s", n, cmd, len(rig.Hosts), pulled)
		}
	}
	assertPulledOn(t, version, rig.Hosts...)

	again := app.mustRun("build", "pull", "--skip-existing")
	for _, cmd := range []string{"docker pull", "docker image rm"} {
		if n := countRunning(again, cmd); n != 0 {
			t.Errorf("pull --skip-existing with the image there: %d %q, want none:\n%s", n, cmd, again)
		}
	}
	for _, h := range rig.Hosts {
		if !commandSucceeded(again, "docker inspect -f '{{ .Config.Labels.service }}' "+imageRef(version), h) {
			t.Errorf("no label check on %s", h)
		}
	}
}

// countRunning counts the commands starting with cmd that stdout logs as
// running.
func countRunning(stdout, cmd string) int {
	return len(regexp.MustCompile(`(?m)^  INFO \[[0-9a-f]{8}\] Running (/usr/bin/env )?`+regexp.QuoteMeta(cmd)).FindAllString(stdout, -1))
}

// --skip-existing with --serve (no registry to compare with) is refused
// before anything runs.
func TestSkipExistingWithServeIsRefused(t *testing.T) {
	app := newApp(t, "app")
	stdout, stderr, exit := app.Run("build", "deliver", "--serve", "--skip-existing")
	assertFailed(t, stdout, stderr, exit, "ArgumentError", "--skip-existing")
	if strings.Contains(stdout, "Running") {
		t.Errorf("ran commands:\n%s", stdout)
	}
}

package e2e

import (
	"regexp"
	"strings"
	"testing"
)

// Kamal 1 runs `mkdir -p .kamal` on every server before it takes the lock and
// pulls; a server that refuses connections fails that step, so nothing is
// pulled anywhere and the error names the server.
func TestPullStopsBeforePullingWhenAServerIsDown(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	app.mustRun("build", "push")
	stopServer(t, "server2")

	stdout, stderr, exit := app.Run("build", "pull")

	if exit != 1 {
		t.Errorf("exit status %d, want 1", exit)
	}
	if report := errorReport(stdout, stderr); !strings.Contains(report, "server2") {
		t.Errorf("error report does not name server2:\n%s", report)
	}
	assertNotPulledOn(t, version, rig.Hosts...)
	assertNoLock(t)
}

// Servers pull in parallel, each on its own: one server failing to pull (here
// server2, whose docker client holds a wrong registry password) does not stop
// the others, and the run still fails naming it.
func TestPullCompletesOnHealthyServersWhenOneServerFailsToPull(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	app.mustRun("build", "push")
	withDockerConfig(t, "server2", dockerConfig(rig.User, "wrong-Password-7"))

	stdout, stderr, exit := app.Run("build", "pull")

	assertFailed(t, stdout, stderr, exit, "SSHKit::Command::Failed", "server2")
	assertPulledOn(t, version, "server1", "server3")
	for _, h := range []string{"server1", "server3"} {
		if !commandSucceeded(stdout, "docker inspect -f '{{ .Config.Labels.service }}' "+imageRef(version), h) {
			t.Errorf("no successful image check on %s after its pull", h)
		}
	}
	assertNoLock(t)
}

// commandSucceeded says whether stdout logs cmd (a prefix of the command)
// running on host and finishing successfully.
func commandSucceeded(stdout, cmd, host string) bool {
	running := regexp.MustCompile(`(?m)^  INFO \[([0-9a-f]{8})\] Running ` + regexp.QuoteMeta(cmd) + `.* on ` + regexp.QuoteMeta(host) + `$`)
	for _, m := range running.FindAllStringSubmatch(stdout, -1) {
		if regexp.MustCompile(`(?m)^  INFO \[` + m[1] + `\] Finished in [0-9.]+ seconds with exit status 0 \(successful\)\.$`).MatchString(stdout) {
			return true
		}
	}
	return false
}

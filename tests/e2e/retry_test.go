package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// retryLineRE is the line kamal-go prints after Kamal's error lines when a
// parallel step failed on some of its hosts.
var retryLineRE = regexp.MustCompile(`(?m)^  (\d+) of (\d+) hosts failed \(([^)]*)\); to retry only them: (kamal .*)$`)

// A pull that fails on one of three servers counts it, names it and prints
// a command that, run as printed by a shell, pulls on that server alone.
func TestFailedPullPrintsARetryOfJustTheFailedHosts(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	app.mustRun("build", "push")
	config := serverFile("server2", ".docker/config.json")
	good, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	withDockerConfig(t, "server2", dockerConfig(rig.User, "wrong-Password-7"))

	stdout, stderr, exit := app.Run("build", "pull", "-v", "-r", "web")

	assertFailed(t, stdout, stderr, exit, "SSHKit::Command::Failed", "server2")
	m := retryLineRE.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no retry line in:\n%s", stdout)
	}
	if m[1] != "1" || m[2] != "3" || m[3] != "server2" {
		t.Errorf("retry line counts %s of %s hosts (%s), want 1 of 3 (server2)", m[1], m[2], m[3])
	}
	if want := "kamal build pull -v -h server2"; m[4] != want {
		t.Errorf("retry command %q, want %q", m[4], want)
	}
	if !strings.HasSuffix(strings.TrimRight(stdout, "\n"), m[0]) {
		t.Errorf("the retry line is not the last line:\n%s", stdout)
	}

	if err := os.WriteFile(config, good, 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := runInShell(t, app, m[4])
	if code != 0 {
		t.Fatalf("%s exited %d:\n%s", m[4], code, out)
	}
	assertPulledOn(t, version, "server2")
	for _, h := range []string{"server1", "server3"} {
		if strings.Contains(out, " on "+h+"\n") {
			t.Errorf("the retry ran commands on %s:\n%s", h, out)
		}
	}
	if !strings.Contains(out, " on server2\n") {
		t.Errorf("the retry ran nothing on server2:\n%s", out)
	}
}

// runInShell runs line with sh -c in the app directory, the binary under
// test first on PATH as kamal, and returns its output and exit status.
func runInShell(t *testing.T, app *App, line string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.Dir = app.Dir
	cmd.Env = app.env([]string{"PATH=" + filepath.Dir(kamalBin) + ":" + os.Getenv("PATH")})
	out, err := cmd.CombinedOutput()
	recordOutput(string(out), "")
	t.Logf("$ %s\n%s", line, out)
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

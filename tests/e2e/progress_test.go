package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// manyHostsWanted is how many hosts the suite's many-hosts rig has: enough
// for a step on more than 10 hosts.
const manyHostsWanted = 12

var (
	manyHostsOnce    sync.Once
	manyHostsStarted bool  // this suite ran `up`, so runMain runs `down`
	manyHostsErr     error // the rig could not be brought up
)

// needManyHostsRig brings tests/bench/many-hosts up with manyHostsWanted
// hosts once per suite unless it is already up (a benchmark's rig is left
// alone), and fails the test when it cannot.
func needManyHostsRig(t *testing.T) {
	t.Helper()
	needRig(t)
	manyHostsOnce.Do(func() {
		// status exits 0 while any of its sshds runs (a benchmark's rig).
		if exec.Command(filepath.Join(repoRoot, "tests/bench/many-hosts"), "status").Run() == nil {
			return
		}
		manyHostsStarted = true
		out, err := exec.Command(filepath.Join(repoRoot, "tests/bench/many-hosts"), "up", fmt.Sprint(manyHostsWanted)).CombinedOutput()
		if err != nil {
			manyHostsErr = fmt.Errorf("tests/bench/many-hosts up %d: %v\n%s", manyHostsWanted, err, out)
		}
	})
	if manyHostsErr != nil {
		t.Fatal(manyHostsErr)
	}
}

// stopManyHostsRig stops the many-hosts rig if this suite started it
// (called by runMain).
func stopManyHostsRig() {
	if !manyHostsStarted {
		return
	}
	if out, err := exec.Command(filepath.Join(repoRoot, "tests/bench/many-hosts"), "down").CombinedOutput(); err != nil {
		fmt.Printf("e2e: tests/bench/many-hosts down: %v\n%s", err, out)
	}
}

// manyHostsApp is the Kamal 1 sample app deployed to the first n hosts of
// the many-hosts rig, which needManyHostsRig brings up.
func manyHostsApp(t *testing.T, n int) *App {
	t.Helper()
	needManyHostsRig(t)
	env, err := os.ReadFile(filepath.Join(repoRoot, "tests/bench/.state/many-hosts/env"))
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+)="(.*)"$`).FindAllStringSubmatch(string(env), -1) {
		vars[m[1]] = m[2]
	}
	addrs := strings.Fields(vars["BENCH_ADDRS"])
	if len(addrs) < n {
		t.Fatalf("many-hosts rig has %d hosts, want %d (tests/bench/many-hosts down, then rerun)", len(addrs), n)
	}
	app := newApp(t, "app")
	path := filepath.Join(app.Dir, "config/deploy.yml")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	servers := "servers:\n"
	for _, a := range addrs[:n] {
		servers += "  - " + a + "\n"
	}
	yml := strings.Replace(string(b), "servers:\n  - server1\n  - server2\n  - server3\n", servers, 1)
	yml = strings.Replace(yml, `<%= ENV.fetch("RIG_SSH_PORT", "22") %>`, vars["BENCH_PORT"], 1)
	if yml == string(b) || !strings.Contains(yml, addrs[n-1]) {
		t.Fatal("could not rewrite the sample app's servers and port")
	}
	app.WriteFile("config/deploy.yml", yml, 0o644)
	app.Commit("many hosts")
	return app
}

// On a terminal, --progress=condensed shows each step on more than 10
// hosts as one live line instead of the hosts' log lines, and clears it.
func TestCondensedProgressShowsOneLiveLinePerStepOnATerminal(t *testing.T) {
	app := manyHostsApp(t, 11)
	app.mustRun("build", "push")

	r := app.startTTY("build", "pull", "--progress=condensed")
	if code := r.exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.screen())
	}
	raw := r.raw()
	draws := regexp.MustCompile(`\r\x1b\[2Kpull_on_host: (\d+)/11 done, (\d+) failed, (\d+) running, [0-9.]+s`).FindAllStringSubmatchIndex(raw, -1)
	if len(draws) == 0 {
		t.Fatalf("no live line for pull_on_host:\n%q", raw)
	}
	last := draws[len(draws)-1]
	if rest := raw[last[1]:]; !strings.HasPrefix(rest, "\r\x1b[2K") {
		t.Errorf("the last live line is not cleared: %q", rest)
	}
	if strings.Contains(raw, "Running docker pull") || strings.Contains(raw, "mkdir -p .kamal on") {
		t.Errorf("the hosts' lines were printed:\n%s", r.screen())
	}
	if !strings.Contains(raw, "Releasing the deploy lock") {
		t.Errorf("the lines outside the steps are missing:\n%s", r.screen())
	}
}

// Without the option the same pull on a terminal logs every host's lines
// and draws nothing.
func TestPlainProgressOnATerminalIsKamalsLog(t *testing.T) {
	app := manyHostsApp(t, 11)
	app.mustRun("build", "push")

	r := app.startTTY("build", "pull")
	if code := r.exit(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, r.screen())
	}
	raw := r.raw()
	if strings.Contains(raw, "\x1b[2K") {
		t.Errorf("a live line was drawn: %q", raw)
	}
	if n := strings.Count(r.screen(), "Running docker pull"); n != 11 {
		t.Errorf("%d docker pull lines, want 11:\n%s", n, r.screen())
	}
}

// raw is every byte the terminal received.
func (r *ttyRun) raw() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

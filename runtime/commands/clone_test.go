package commands

import (
	"testing"

	"github.com/kamal-go/kamal/runtime/shell"
)

func TestCloneAndBuildDirs(t *testing.T) {
	cfg := rigV2()
	// sha256("/home/me/app")[:13] = fd865ce82eb8c, sha256("/home/me/app/web")[:13] = 234ee994e5b23 (sha256sum)
	if got := CloneDir(cfg, "/home/me/app", "/tmp"); got != "/tmp/kamal-clones/app-fd865ce82eb8c" {
		t.Errorf("CloneDir = %q", got)
	}
	if got := CloneDir(cfg, "/home/me/app", "/var/tmp/"); got != "/var/tmp/kamal-clones/app-fd865ce82eb8c" {
		t.Errorf("CloneDir with trailing slash = %q", got)
	}
	if got := BuildDir(cfg, "/home/me/app", "/tmp", "/home/me/app"); got != "/tmp/kamal-clones/app-fd865ce82eb8c/app/" {
		t.Errorf("BuildDir at root = %q", got)
	}
	if got := BuildDir(cfg, "/home/me/app/web", "/tmp", "/home/me/app"); got != "/tmp/kamal-clones/app-234ee994e5b23/app/web" {
		t.Errorf("BuildDir in subdir = %q", got)
	}
}

func loggedAll(cmds []*shell.Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Logged())
	}
	return out
}

func TestCloneCommandsV2MatchTranscript(t *testing.T) {
	cfg := rigV2()
	const clone, build = "/tmp/kamal-clones/app-9ca7bd659abf3", "/tmp/kamal-clones/app-9ca7bd659abf3/app/"
	// kamal-2.12.0 build-push-v.txt
	want := "/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3 clone /home/me/app --recurse-submodules"
	assertCommand(t, CloneRepo(cfg, clone, "/home/me/app"), want, want)
	steps := loggedAll(CloneResetSteps(cfg, build, "/home/me/app", rigVersion))
	wantSteps := []string{
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ remote set-url origin /home/me/app",
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ fetch origin",
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ reset --hard 28b352e33ce29611e6d9c421fb0c8cbe332d9657",
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ clean -fdx",
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ submodule update --init",
		"/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ gc --auto --quiet",
	}
	if len(steps) != len(wantSteps) {
		t.Fatalf("steps = %q", steps)
	}
	for i := range steps {
		if steps[i] != wantSteps[i] {
			t.Errorf("step %d:\n got  %s\n want %s", i, steps[i], wantSteps[i])
		}
	}
	want = "/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ status --porcelain"
	assertCommand(t, CloneStatus(cfg, build), want, want)
	want = "/usr/bin/env git -C /tmp/kamal-clones/app-9ca7bd659abf3/app/ rev-parse HEAD"
	assertCommand(t, CloneRevision(cfg, build), want, want)
}

func TestCloneCommandsEscapePathsInV2Only(t *testing.T) {
	const clone, build, root = "/tmp/kamal-clones/app-1", "/tmp/kamal-clones/app-1/my app/", "/home/me/my app"
	v2 := CloneRepo(rigV2(), clone, root).Logged()
	if v2 != `/usr/bin/env git -C /tmp/kamal-clones/app-1 clone /home/me/my\ app --recurse-submodules` {
		t.Errorf("V2 clone = %s", v2)
	}
	if got := CloneStatus(rigV2(), build).Logged(); got != `/usr/bin/env git -C /tmp/kamal-clones/app-1/my\ app/ status --porcelain` {
		t.Errorf("V2 status = %s", got)
	}
	v1 := CloneRepo(seedV1(), clone, root).Logged()
	if v1 != `/usr/bin/env git -C /tmp/kamal-clones/app-1 clone /home/me/my app --recurse-submodules` {
		t.Errorf("V1 clone = %s", v1)
	}
	if n := len(CloneResetSteps(seedV1(), build, root, "abc")); n != 5 {
		t.Errorf("V1 reset steps = %d, want 5 (no gc)", n)
	}
}

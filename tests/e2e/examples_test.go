package e2e

// The user-script examples (examples/notify, tags, roles, no-registry,
// smoke), each run end to end against the rig.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func init() {
	// Kamal 1 configs like examples/app: the docker client starts logged in.
	for _, e := range []string{"notify", "tags", "roles", "no-registry", "smoke"} {
		kamal1Examples[e] = true
	}
}

// listener records the bodies POSTed to it.
type listener struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []string
}

func newListener(t *testing.T) *listener {
	l := &listener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.bodies = append(l.bodies, r.Method+" "+string(b))
		l.mu.Unlock()
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *listener) received() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.bodies...)
}

func TestExampleNotify(t *testing.T) {
	app := newApp(t, "notify")
	version := app.Version()
	l := newListener(t)
	env := []string{"NOTIFY_URL=" + l.URL + "/deploys"}
	digestLog := filepath.Join(app.Dir, ".kamal", "digests.log")

	// A dry run of the user's script prints, and pushes, writes and posts nothing.
	stdout, _, exit := app.RunEnv(env, "build", "deliver", "--dry-run")
	if exit != 0 {
		t.Fatalf("dry run exited %d", exit)
	}
	assertContains(t, "dry run", stdout, "cat >> .kamal/digests.log", "curl -fsS")
	if got := l.received(); len(got) != 0 {
		t.Errorf("the dry run posted %q", got)
	}
	if exists(digestLog) {
		t.Error("the dry run wrote .kamal/digests.log")
	}
	assertNotPushed(t, version)

	stdout, _, exit = app.RunEnv(env, "build", "deliver")
	if exit != 0 {
		t.Fatalf("deliver exited %d", exit)
	}
	assertPushed(t, version)
	assertPulledOn(t, version, rig.Hosts...)
	digest := registryDigest(t, "app", version)
	want := "app " + version + " pushed " + imageRef(version) + " (" + rig.Registry + "/app@" + digest + ")"
	got := l.received()
	if len(got) != 1 || !strings.HasPrefix(got[0], "POST "+want) {
		t.Errorf("the listener got %q, want one POST of %q", got, want)
	}
	if log := readFile(t, digestLog); !strings.HasPrefix(log, want) || strings.Count(log, "\n") != 1 {
		t.Errorf(".kamal/digests.log = %q, want one line %q", log, want)
	}
	assertContains(t, "output", stdout, "Notified: "+want)
	assertNoLock(t)
}

func TestExampleTags(t *testing.T) {
	app := newApp(t, "tags")
	version := app.Version()
	branch := "feature/tags-" + version[:12]
	app.git("checkout", "-q", "-b", branch)

	app.mustRun("build", "push")

	d := registryDigest(t, "app", version)
	if d == "" {
		t.Fatalf("app:%s was not pushed", version)
	}
	tag := strings.ReplaceAll(branch, "/", "-")
	for _, other := range []string{"latest", tag} {
		if got := registryDigest(t, "app", other); got != d {
			t.Errorf("app:%s is %q, want app:%s's %s", other, got, version, d)
		}
	}

	// kamal build script shows the one step that was replaced.
	script := app.mustRun("build", "script")
	user := filepath.Join(app.Dir, ".kamal/scripts/build.star")
	assertContains(t, "kamal build script", script, "# from "+user+":8\ndef build_command(", "# from @kamal//build.star:")
	if strings.Count(script, "def build_command(") != 1 {
		t.Errorf("kamal build script shows build_command more than once:\n%s", script)
	}
}

func TestExampleRoles(t *testing.T) {
	app := newApp(t, "roles")
	version := app.Version()

	app.mustRun("build", "deliver")

	web, workers := registryDigest(t, "app-web", version), registryDigest(t, "app-workers", version)
	if web == "" || workers == "" {
		t.Fatalf("app-web:%s = %q, app-workers:%s = %q: want both pushed", version, web, version, workers)
	}
	if web == workers {
		t.Errorf("both roles got the same image %s; want one per Dockerfile", web)
	}
	if hasTag(t, "app", version) {
		t.Errorf("app:%s was pushed; want only the role images", version)
	}
	pulled := func(role string) string { return "Pulled " + role + " image with version " + version }
	for host, role := range map[string]string{"server1": "web", "server2": "web", "server3": "workers"} {
		other := map[string]string{"web": "workers", "workers": "web"}[role]
		log := auditLog(t, host)
		if !strings.Contains(log, pulled(role)) || strings.Contains(log, pulled(other)) {
			t.Errorf("%s's audit log should record pulling the %s image only:\n%s", host, role, log)
		}
	}
	assertNoLock(t)

	// -r narrows the build and the pull to one role.
	app.WriteFile("worker.txt", "second version\n", 0o644)
	v2 := app.Commit("change the worker")
	app.mustRun("build", "deliver", "-r", "workers")
	if registryDigest(t, "app-workers", v2) == "" || hasTag(t, "app-web", v2) {
		t.Errorf("-r workers: want only app-workers:%s pushed", v2)
	}
	if strings.Contains(auditLog(t, "server1"), v2) || !strings.Contains(auditLog(t, "server3"), "Pulled workers image with version "+v2) {
		t.Errorf("-r workers: want the pull on server3 only")
	}
}

func TestExampleNoRegistry(t *testing.T) {
	app := newApp(t, "no-registry")
	version := app.Version()
	ref := imageRef(version)

	// The new subcommand is listed with its docstring.
	help := app.mustRun("build", "help")
	assertContains(t, "kamal build help", help, "kamal build ship", "# Build the image and load it on every host over SSH, without a registry")
	help = app.mustRun("build", "help", "ship")
	assertContains(t, "kamal build help ship", help, "--remove-local removes the local copy")

	stdout := app.mustRun("build", "ship", "--remove-local")

	assertNotPushed(t, version)
	// The local copy was removed after the save; the rig's servers share
	// the one dockerd, so the image is back only if the loads worked.
	if !dockerImageExists(t, ref) {
		t.Fatalf("docker has no %s after ship", ref)
	}
	id := strings.TrimSpace(mustOutput(t, "docker", "image", "inspect", "--format", "{{.Id}}", ref))
	for _, h := range rig.Hosts {
		want := "Loaded image " + ref + " id " + id + " without a registry"
		if log := auditLog(t, h); !strings.Contains(log, want) {
			t.Errorf("%s's audit log lacks %q:\n%s", h, want, log)
		}
	}
	assertContains(t, "output", stdout, "docker image rm --force "+ref+" on localhost", "base64 -d | gunzip | docker load on server1")
	assertNoLock(t)
}

// smokeApp is the smoke example with its probe built: failOn names a host
// where the probe exits 1.
func smokeApp(t *testing.T, failOn string) *App {
	app := newApp(t, "smoke")
	args := []string{"build", "-o", filepath.Join(app.Dir, "bin", "true")}
	if failOn != "" {
		args = append(args, "-ldflags", "-X main.failOn="+failOn)
	}
	cmd := exec.Command("go", append(args, "main.go")...)
	cmd.Dir = filepath.Join(app.Dir, "_true")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the probe: %v\n%s", err, out)
	}
	app.Commit("the probe")
	return app
}

func TestExampleSmoke(t *testing.T) {
	app := smokeApp(t, "")
	version := app.Version()

	stdout := app.mustRun("build", "deliver")

	assertPulledOn(t, version, rig.Hosts...)
	assertContains(t, "output", stdout,
		"docker run --rm --env KAMAL_HOST=server2 "+imageRef(version)+" /true on server2",
		"Smoke test passed on server1, server2, server3")
	// The new subcommand runs the test alone.
	stdout = app.mustRun("build", "smoke", "-h", "server3")
	assertContains(t, "kamal build smoke", stdout, "Smoke test passed on server3")
	assertNotContains(t, "kamal build smoke", stdout, "on server1")
	assertNoLock(t)
}

func TestExampleSmokeNamesTheHostsWhereTheImageDidNotRun(t *testing.T) {
	app := smokeApp(t, "server2")
	version := app.Version()

	stdout, stderr, exit := app.Run("build", "deliver")

	assertFailed(t, stdout, stderr, exit, "SmokeTestFailed", imageRef(version)+" did not run on server2")
	if report := errorReport(stdout, stderr); strings.Contains(report, "server1") || strings.Contains(report, "server3") {
		t.Errorf("the error names hosts where the image ran:\n%s", report)
	}
	assertContains(t, "output", stdout, "Smoke test failed on server2 with exit status 1: refusing to start on server2")
	assertPulledOn(t, version, rig.Hosts...)
	assertNoLock(t)
}

func mustOutput(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return string(out)
}

// TestExampleNotifyScriptTests runs the example's own tests
// (.kamal/scripts/build_test.star) with kamal build test, then one that
// expects the wrong thing: it fails with its FILE:LINE and exit status 1,
// and nothing reached the rig (no lock, no image).
func TestExampleNotifyScriptTests(t *testing.T) {
	app := newApp(t, "notify")
	stdout, _, exit := app.Run("build", "test")
	if exit != 0 || !strings.HasSuffix(stdout, "5 passed, 0 failed\n") {
		t.Fatalf("kamal build test exited %d:\n%s", exit, stdout)
	}
	app.WriteFile("wrong_test.star", "def test_wrong():\n    steps.push()\n    assert.eq(ran(), [])\n", 0o644)
	stdout, _, exit = app.Run("build", "test", "wrong_test.star")
	if exit != 1 || !strings.Contains(stdout, "--- FAIL: test_wrong\n    wrong_test.star:3: [(") || !strings.HasSuffix(stdout, "0 passed, 1 failed\n") {
		t.Errorf("a wrong expectation: exit %d, want 1 and its FILE:LINE:\n%s", exit, stdout)
	}
	assertNotPushed(t, app.Version())
	assertNoLock(t)
}

package e2e

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// App is a private copy of an example app (a fresh git repo) with its own
// HOME and TMPDIR for the kamal runs.
type App struct {
	t    *testing.T
	Dir  string // the app's working copy, named "app" like the reference rig's
	Home string // HOME of kamal runs: no user config, empty known_hosts
	Tmp  string // TMPDIR of kamal runs (Kamal 2 clones into $TMPDIR/kamal-clones)

	versions []string // every commit made, so cleanup can drop their images
}

// kamal1Examples use Kamal 1's flow, which logs in to the registry nowhere:
// their docker client starts logged in, as a Kamal 1 user's machine would.
var kamal1Examples = map[string]bool{"app": true}

// runTimeout only guards against a hung run; no test measures time.
const runTimeout = 10 * time.Minute

// newApp copies examples/<example> into a temp dir and commits it. A nonce
// file makes every copy's commit, and so its image tag, unique.
func newApp(t *testing.T, example string) *App {
	t.Helper()
	needRig(t)
	base := t.TempDir()
	a := &App{t: t, Dir: filepath.Join(base, "app"), Home: filepath.Join(base, "home"), Tmp: filepath.Join(base, "tmp")}
	copyDir(t, filepath.Join(repoRoot, "examples", example), a.Dir)
	for _, d := range []string{filepath.Join(a.Home, ".ssh"), a.Tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(a.Home, ".ssh", "known_hosts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if kamal1Examples[example] {
		a.writeHomeFile(".docker/config.json", dockerConfig(rig.User, rig.Password))
	}
	a.WriteFile(".nonce", fmt.Sprintf("%s %d\n", t.Name(), time.Now().UnixNano()), 0o644)
	a.git("init", "-q")
	a.Commit("sample app")
	t.Cleanup(func() {
		clearLocks(t)
		// Keep the shared dockerd from filling up with one image per test run.
		for _, v := range a.versions {
			_ = exec.Command("docker", "image", "rm", "--force", imageRef(v)).Run()
		}
	})
	return a
}

// WriteFile writes rel (relative to the app dir); Commit makes it part of HEAD.
func (a *App) WriteFile(rel, content string, mode fs.FileMode) {
	a.t.Helper()
	path := filepath.Join(a.Dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		a.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		a.t.Fatal(err)
	}
}

func (a *App) writeHomeFile(rel, content string) {
	a.t.Helper()
	path := filepath.Join(a.Home, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		a.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		a.t.Fatal(err)
	}
}

// Commit commits every change with a fixed author and returns the new HEAD.
func (a *App) Commit(msg string) string {
	a.t.Helper()
	a.git("add", "-A")
	a.git("commit", "-q", "-m", msg)
	v := a.Version()
	a.versions = append(a.versions, v)
	return v
}

// Version is HEAD's full sha: the version (image tag) Kamal derives.
func (a *App) Version() string {
	a.t.Helper()
	return strings.TrimSpace(a.git("rev-parse", "HEAD"))
}

func (a *App) git(args ...string) string {
	a.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = a.Dir
	cmd.Env = append(os.Environ(), "HOME="+a.Home, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Kamal Test", "GIT_AUTHOR_EMAIL=test@kamal-go.invalid", "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=Kamal Test", "GIT_COMMITTER_EMAIL=test@kamal-go.invalid", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
	out, err := cmd.CombinedOutput()
	if err != nil {
		a.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// env is the environment of kamal runs: the rig's variables, a clean HOME and
// TMPDIR, and no USER/LOGNAME (so local commands read "on localhost", as in
// the reference transcripts). extra (KEY=VALUE) comes last and wins.
func (a *App) env(extra []string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.Home, "TMPDIR=" + a.Tmp}
	if v, ok := os.LookupEnv("DOCKER_HOST"); ok {
		env = append(env, "DOCKER_HOST="+v)
	}
	for k, v := range rig.Env {
		env = append(env, k+"="+v)
	}
	// Kamal 1 reads the registry password from the process environment.
	env = append(env, "KAMAL_REGISTRY_PASSWORD="+rig.Password)
	return append(env, extra...)
}

// Run runs the kamal binary in the app dir.
func (a *App) Run(args ...string) (stdout, stderr string, exit int) {
	a.t.Helper()
	return a.RunEnv(nil, args...)
}

// RunEnv is Run with extra environment variables (KEY=VALUE).
func (a *App) RunEnv(extra []string, args ...string) (stdout, stderr string, exit int) {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kamalBin, args...)
	cmd.Dir = a.Dir
	cmd.Env = a.env(extra)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	stdout, stderr = out.String(), errb.String()
	recordOutput(stdout, stderr) // for the suite's secrets check (leak_test.go)
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		a.t.Fatalf("kamal %s did not finish within %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), runTimeout, stdout, stderr)
	case errors.As(err, &exitErr):
		exit = exitErr.ExitCode()
	case err != nil:
		a.t.Fatalf("kamal %s: %v", strings.Join(args, " "), err)
	}
	a.t.Logf("$ kamal %s  # exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), exit, stdout, stderr)
	return stdout, stderr, exit
}

// mustRun runs kamal and fails the test unless it exits 0.
func (a *App) mustRun(args ...string) string {
	a.t.Helper()
	stdout, _, exit := a.Run(args...)
	if exit != 0 {
		a.t.Fatalf("kamal %s exited %d (output logged above)", strings.Join(args, " "), exit)
	}
	return stdout
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}

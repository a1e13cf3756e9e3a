package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The hand-off to the app's own Ruby Kamal (issue 21), with the stand-in
// tests/standins/ruby-kamal/kamal (and its bundle) in place of Kamal: it
// records its argv, cwd, environment and stdin, and exits as told.

// standinDir holds the stand-ins kamal and bundle.
func standinDir() string { return filepath.Join(repoRoot, "tests", "standins", "ruby-kamal") }

// standin is where one test's stand-in records its runs.
type standin struct {
	t   *testing.T
	dir string
}

func newStandin(t *testing.T) *standin {
	return &standin{t: t, dir: filepath.Join(t.TempDir(), "record")}
}

func (s *standin) env(extra ...string) []string {
	return append([]string{"KAMAL_STANDIN_RECORD=" + s.dir}, extra...)
}

func (s *standin) called() bool { return exists(filepath.Join(s.dir, "calls")) }

func (s *standin) read(name string) string {
	s.t.Helper()
	if !s.called() {
		s.t.Fatalf("the app's Kamal (the stand-in) never ran")
	}
	b, err := os.ReadFile(filepath.Join(s.dir, name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		s.t.Fatal(err)
	}
	return string(b)
}

func (s *standin) argv() []string {
	return strings.Split(strings.TrimSuffix(s.read("argv"), "\n"), "\n")
}

func (s *standin) envVar(name string) string {
	for _, line := range strings.Split(s.read("env"), "\n") {
		if v, ok := strings.CutPrefix(line, name+"="); ok {
			return v
		}
	}
	return ""
}

// pathWith is PATH with dirs in front.
func pathWith(dirs ...string) string {
	return "PATH=" + strings.Join(append(dirs, os.Getenv("PATH")), ":")
}

// runWithStdin runs kamal in the app dir with env and stdin.
func runWithStdin(t *testing.T, a *App, env []string, stdin string, args ...string) (stdout, stderr string, exit int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, kamalBin, args...)
	cmd.Dir = a.Dir
	cmd.Env = a.env(env)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		exit = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("$ kamal %s  # exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), exit, out.String(), errb.String())
	return out.String(), errb.String(), exit
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

const kamalLock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    kamal (2.12.0)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  kamal\n"

func TestHandOffFindsTheAppsKamalFourWays(t *testing.T) {
	onlyStandin := t.TempDir() // a PATH dir with the stand-in kamal alone
	copyExecutable(t, filepath.Join(standinDir(), "kamal"), filepath.Join(onlyStandin, "kamal"))
	tests := []struct {
		name    string
		prepare func(a *App) []string // the environment to add
		via     string                // KAMAL_STANDIN_VIA the stand-in saw
		found   string                // where the mark says it was found
	}{
		{"KAMAL_GO_HANDOFF", func(a *App) []string {
			return []string{"KAMAL_GO_HANDOFF=" + filepath.Join(standinDir(), "bundle") + " exec kamal", pathWith()}
		}, "bundle", "KAMAL_GO_HANDOFF ("},
		{"bin_kamal_binstub", func(a *App) []string {
			copyExecutable(t, filepath.Join(standinDir(), "kamal"), filepath.Join(a.Dir, "bin", "kamal"))
			return []string{pathWith(onlyStandin)} // the binstub comes first
		}, "", "bin/kamal"},
		{"bundle_exec_when_the_lock_has_kamal", func(a *App) []string {
			a.WriteFile("Gemfile.lock", kamalLock, 0o644)
			return []string{pathWith(standinDir())}
		}, "bundle", "bundle exec kamal (Gemfile.lock has kamal)"},
		{"kamal_on_the_path", func(a *App) []string {
			return []string{pathWith(onlyStandin)}
		}, "", "kamal on the PATH (" + filepath.Join(onlyStandin, "kamal") + ")"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, "app-kamal2")
			s := newStandin(t)
			env := append(s.env("KAMAL_STANDIN_EXIT=0", "HANDOFF_PROBE=seen"), tt.prepare(a)...)
			_, _, exit := runWithStdin(t, a, env, "typed input\n", "app", "logs", "-r", "web", "--since=1h")
			if exit != 0 {
				t.Fatalf("exit %d, want the stand-in's 0", exit)
			}
			if got, want := s.argv(), []string{"app", "logs", "-r", "web", "--since=1h"}; strings.Join(got, "\x00") != strings.Join(want, "\x00") {
				t.Errorf("argv %q, want %q", got, want)
			}
			if cwd := strings.TrimSpace(s.read("cwd")); cwd != a.Dir {
				dir, _ := filepath.EvalSymlinks(a.Dir)
				if cwd != dir {
					t.Errorf("cwd %q, want %q", cwd, a.Dir)
				}
			}
			if s.read("stdin") != "typed input\n" {
				t.Errorf("stdin %q, want %q", s.read("stdin"), "typed input\n")
			}
			if s.envVar("HANDOFF_PROBE") != "seen" {
				t.Errorf("the environment was not passed on")
			}
			if via := s.envVar("KAMAL_STANDIN_VIA"); via != tt.via {
				t.Errorf("ran via %q, want %q", via, tt.via)
			}
			if mark := s.envVar("KAMAL_GO_HANDED_OFF"); !strings.HasPrefix(mark, tt.found) {
				t.Errorf("KAMAL_GO_HANDED_OFF=%q, want %q...", mark, tt.found)
			}
		})
	}
}

func TestHandOffToACopyOfKamalGoDoesNotLoop(t *testing.T) {
	a := newApp(t, "app-kamal2")
	copyDir := t.TempDir()
	copyExecutable(t, kamalBin, filepath.Join(copyDir, "kamal"))
	start := time.Now()
	stdout, stderr, exit := runWithStdin(t, a, []string{pathWith(copyDir)}, "", "details")
	stderr += stdout
	if exit != 1 {
		t.Fatalf("exit %d, want 1", exit)
	}
	assertContains(t, "stderr", stderr, "kamal-go was started as the app's Kamal (found as kamal on the PATH ("+filepath.Join(copyDir, "kamal")+")) by a hand-off of \"details\"", "KAMAL_GO_HANDOFF")
	if strings.Count(stderr, "ERROR") != 1 {
		t.Errorf("want one error line, got:\n%s", stderr)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestHandOffWithNoKamalSaysWhereItLooked(t *testing.T) {
	a := newApp(t, "app-kamal2")
	s := newStandin(t)
	stdout, stderr, exit := runWithStdin(t, a, s.env(), "", "deploy")
	if exit != 1 {
		t.Fatalf("exit %d, want 1", exit)
	}
	if s.called() {
		t.Fatal("a Kamal ran")
	}
	out := strings.TrimSpace(stdout + stderr)
	if n := strings.Count(out, "\n") + 1; n > 3 {
		t.Errorf("%d lines, want at most 3:\n%s", n, out)
	}
	assertContains(t, "output", out, `"deploy" is run by the app's own Kamal, and none was found`, "bin/kamal (none)", "Gemfile.lock (no kamal)", "gem install kamal")
	assertNotContains(t, "output", out, "Building", "docker")
}

var uncommittedVersion = regexp.MustCompile(`^--version=([0-9a-f]{40})_uncommitted_[0-9a-f]{16}$`)

func TestDeployPushesThenHandsOffWithTheVersionPushed(t *testing.T) {
	a := newApp(t, "app-kamal2")
	s := newStandin(t)
	version := a.Version()
	stdout, _, exit := a.RunEnv(s.env(pathWith(standinDir())), "deploy")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	assertPushed(t, version)
	assertContains(t, "stdout", stdout, "Handing over to the app's Kamal (kamal on the PATH (")
	if got := strings.Join(s.argv(), " "); got != "deploy --skip-push --version="+version {
		t.Errorf("the app's Kamal got %q, want %q", got, "deploy --skip-push --version="+version)
	}
	if strings.Index(stdout, "docker push") > strings.Index(stdout, "Handing over") {
		t.Errorf("handed off before pushing:\n%s", stdout)
	}
}

func TestDeployOfADirtyTreeHandsOffTheUncommittedVersionItBuilt(t *testing.T) {
	a := newApp(t, "app-kamal2")
	editConfig(a, "  driver: docker\n", "  driver: docker\n  context: .\n")
	a.Commit("build from the working tree")
	a.WriteFile("index.html", "changed, not committed\n", 0o644)
	s := newStandin(t)
	_, _, exit := a.RunEnv(s.env(pathWith(standinDir())), "redeploy")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	argv := s.argv()
	if len(argv) != 3 || argv[0] != "redeploy" || argv[1] != "--skip-push" || !uncommittedVersion.MatchString(argv[2]) {
		t.Fatalf("the app's Kamal got %q, want redeploy --skip-push --version=SHA_uncommitted_HEX", argv)
	}
	v := strings.TrimPrefix(argv[2], "--version=")
	a.versions = append(a.versions, v)
	if !hasTag(t, "app", v) {
		t.Errorf("the registry has no app:%s: the version handed off is not the one pushed", v)
	}
}

func TestDeploySkipPushHandsOffUnchangedAndBuildsNothing(t *testing.T) {
	a := newApp(t, "app-kamal2")
	s := newStandin(t)
	stdout, _, exit := a.RunEnv(s.env(pathWith(standinDir()), "KAMAL_STANDIN_EXIT=3"), "deploy", "-P", "-d", "staging")
	if exit != 3 {
		t.Fatalf("exit %d, want the app's Kamal's 3", exit)
	}
	if got := strings.Join(s.argv(), " "); got != "deploy -P -d staging" {
		t.Errorf("the app's Kamal got %q, want %q", got, "deploy -P -d staging")
	}
	assertNotPushed(t, a.Version())
	assertNotContains(t, "stdout", stdout, "docker", "Handing over")
}

func TestDeployWhoseBuildFailsNeverReachesTheAppsKamal(t *testing.T) {
	a := newApp(t, "app-kamal2")
	a.WriteFile("Dockerfile", "FROM scratch\nCOPY no-such-file /\n", 0o644)
	a.Commit("a build that fails")
	s := newStandin(t)
	stdout, stderr, exit := a.RunEnv(s.env(pathWith(standinDir())), "deploy")
	stderr += stdout
	if exit != 1 {
		t.Fatalf("exit %d, want 1 (kamal-go's)", exit)
	}
	if s.called() {
		t.Fatal("the app's Kamal ran after a failed build")
	}
	assertContains(t, "stderr", stderr, "ERROR")
	assertNotPushed(t, a.Version())
}

func TestDeployStopsBeforeBuildingWhenTheAppsKamalWouldRefuseAKamalGoKey(t *testing.T) {
	a := newApp(t, "app-kamal2")
	editConfig(a, "ssh:\n", "sshkit:\n  max_concurrent_hosts: 2\nssh:\n")
	a.Commit("an old kamal-go key")
	s := newStandin(t)
	stdout, stderr, exit := a.RunEnv(s.env(pathWith(standinDir())), "deploy")
	stderr += stdout
	if exit != 1 || s.called() {
		t.Fatalf("exit %d, stand-in ran: %v", exit, s.called())
	}
	assertContains(t, "stderr", stderr, "sshkit: unknown key: max_concurrent_hosts (the app's Kamal 2.12.0 would refuse sshkit/max_concurrent_hosts, kamal-go's own setting: move it to x-kamal-go/sshkit/max_concurrent_hosts)")
	assertNotPushed(t, a.Version())
}

func TestDeployInterruptedDuringTheHandOffReachesTheAppsKamalAndLeavesNoLock(t *testing.T) {
	a := newApp(t, "app") // Kamal 1.5: kamal-go's push takes the deploy lock
	s := newStandin(t)
	run := a.Start(s.env(pathWith(standinDir()), "KAMAL_STANDIN_WAIT=1"), "deploy")
	waiting := filepath.Join(s.dir, "waiting")
	for deadline := time.Now().Add(runTimeout); !exists(waiting); time.Sleep(20 * time.Millisecond) {
		select {
		case <-run.done:
			run.Wait()
			t.Fatal("kamal ended before the stand-in started waiting")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the stand-in never started waiting")
		}
	}
	assertNoLock(t) // released before the hand-off
	run.Signal(syscall.SIGINT)
	_, _, exit := run.Wait()
	if exit != 130 {
		t.Errorf("exit %d, want the app's Kamal's 130", exit)
	}
	if got := strings.TrimSpace(s.read("signal")); got != "INT" {
		t.Errorf("the app's Kamal got signal %q, want INT", got)
	}
	assertPushed(t, a.Version())
	assertNoLock(t)
}

func TestServeCannotBeCombinedWithAHandOff(t *testing.T) {
	a := newApp(t, "app-kamal2")
	s := newStandin(t)
	stdout, stderr, exit := a.RunEnv(s.env(pathWith(standinDir())), "deploy", "--serve")
	stderr += stdout
	if exit != 1 || s.called() {
		t.Fatalf("exit %d, stand-in ran: %v", exit, s.called())
	}
	assertContains(t, "stderr", stderr, "--serve cannot be combined with kamal deploy")
}

func TestDeployScriptFromTheAppReplacesTheStockOne(t *testing.T) {
	a := newApp(t, "app-kamal2")
	a.WriteFile(".kamal/scripts/deploy.star", `load("@kamal//deploy.star", "push_then_hand_off")

def deploy(no_cache = False):
    say("the app's own deploy")
    return hand_off("--from-the-script")
`, 0o644)
	a.Commit("own deploy script")
	s := newStandin(t)
	stdout, _, exit := a.RunEnv(s.env(pathWith(standinDir())), "deploy")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	assertContains(t, "stdout", stdout, "the app's own deploy")
	if got := strings.Join(s.argv(), " "); got != "deploy --from-the-script" {
		t.Errorf("the app's Kamal got %q, want %q", got, "deploy --from-the-script")
	}
	assertNotPushed(t, a.Version())
}

func TestHelpOfAHandedOffCommandAndKamal1CommandsForKamal1Apps(t *testing.T) {
	a := newApp(t, "app-kamal2")
	s := newStandin(t)
	if _, _, exit := a.RunEnv(s.env(pathWith(standinDir())), "help", "deploy"); exit != 0 {
		t.Fatalf("kamal help deploy: exit %d", exit)
	}
	if got := strings.Join(s.argv(), " "); got != "help deploy" {
		t.Errorf("kamal help deploy gave the app's Kamal %q", got)
	}
	// A Kamal 2 app has no traefik: Thor's answer, nothing handed off.
	os.RemoveAll(s.dir)
	stdout, stderr, exit := a.RunEnv(s.env(pathWith(standinDir())), "traefik", "reboot")
	if exit != 1 || s.called() {
		t.Fatalf("kamal traefik in a Kamal 2 app: exit %d, handed off: %v", exit, s.called())
	}
	assertContains(t, "output", stdout+stderr, `Could not find command "traefik".`)
	// An app pinning Kamal 1.9 has it: handed off.
	a.WriteFile("Gemfile.lock", strings.Replace(kamalLock, "kamal (2.12.0)", "kamal (1.9.2)", 1), 0o644)
	if _, _, exit := a.RunEnv(s.env(pathWith(standinDir())), "traefik", "reboot"); exit != 0 {
		t.Fatalf("kamal traefik reboot in a Kamal 1.9 app: exit %d", exit)
	}
	if got := strings.Join(s.argv(), " "); got != "traefik reboot" {
		t.Errorf("the app's Kamal got %q, want %q", got, "traefik reboot")
	}
}

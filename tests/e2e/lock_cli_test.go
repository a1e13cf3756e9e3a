package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const automaticDetails = "Locked by: another run at 2026-01-01T00:00:00Z\nVersion: 0\nMessage: Automatic deploy lock"

// kamal lock status|acquire|release, as Kamal has them: a stale lock can be
// seen and cleared.
func TestLockCommands(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()

	if out := app.mustRun("lock", "status"); !strings.Contains(out, "There is no deploy lock\n") {
		t.Errorf("lock status without a lock:\n%s", out)
	}
	out := app.mustRun("lock", "acquire", "-m", "Maintenance window")
	assertContains(t, "lock acquire", out, "Acquired the deploy lock\n")
	if !exists(serverFile("server1", lockDir)) {
		t.Fatalf("no lock on server1 after lock acquire")
	}
	out = app.mustRun("lock", "status")
	assertContains(t, "lock status", out, "Locked by: ", "Version: "+version+"\n", "Message: Maintenance window\n")

	stdout, stderr, exit := app.Run("build", "push")
	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::LockError", "Deploy lock found. Run 'kamal lock help' for more information")
	assertContains(t, "build push", stdout, "Deploy lock already in place!\n", "Message: Maintenance window\n")
	assertNotPushed(t, version)

	stdout, stderr, exit = app.Run("lock", "acquire", "-m", "again")
	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::LockError", "Deploy lock found.")
	assertContains(t, "lock acquire of a held lock", stdout, "Deploy lock already in place!\n", "Message: Maintenance window\n")

	assertContains(t, "lock release", app.mustRun("lock", "release"), "Released the deploy lock\n")
	assertNoLock(t)
	assertContains(t, "second lock release", app.mustRun("lock", "release"), "There is no deploy lock\n")

	// Thor's check: its line on stderr, nothing on stdout, exit 1.
	stdout, stderr, exit = app.Run("lock", "acquire")
	if exit != 1 || stdout != "" || stderr != "No value provided for required options '--message'\n" {
		t.Errorf("lock acquire without -m: exit %d\n%s\n%s", exit, stdout, stderr)
	}
	assertNoLock(t)

	help := app.mustRun("lock", "help")
	assertContains(t, "lock help", help, "kamal lock acquire -m, --message=MESSAGE  # Acquire the deploy lock",
		"kamal lock release                        # Release the deploy lock", "kamal lock status                         # Report lock status")
}

func TestLockWaitTimesOut(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	holdLock(t, "server1", automaticDetails)

	stdout, stderr, exit := app.Run("build", "push", "--lock-wait", "--lock-wait-timeout", "2", "--lock-wait-interval", "1")

	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::LockError", "Timed out waiting for deploy lock")
	assertContains(t, "stdout", stdout, "Acquiring the deploy lock (waiting up to 2s)...\n", "Deploy lock is held by:\n"+automaticDetails+"\n",
		"Timed out after 2s waiting for the deploy lock\n")
	assertNotContains(t, "stdout", stdout, "Running the pre-build hook...")
	assertNotPushed(t, version)
	if !exists(serverFile("server1", lockDir)) {
		t.Errorf("the other run's lock was removed")
	}
}

func TestLockWaitDoesNotWaitForAManualLock(t *testing.T) {
	app := newApp(t, "app")
	holdLock(t, "server1", "Locked by: someone at 2026-01-01T00:00:00Z\nVersion: 0\nMessage: Maintenance")

	stdout, stderr, exit := app.Run("build", "push", "--lock-wait")

	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::LockError", "Deploy lock held manually, not waiting. Run 'kamal lock help' for more information")
	assertNotContains(t, "stdout", stdout, "Retrying in")
	assertNotPushed(t, app.Version())
}

func TestLockWaitTakesTheLockOnceReleased(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	holdLock(t, "server1", automaticDetails)

	run := app.Start(nil, "build", "push", "--lock-wait", "--lock-wait-interval", "1")
	run.WaitForText("Retrying in 1s (", 1)
	if err := os.RemoveAll(serverFile("server1", lockDir)); err != nil {
		t.Fatal(err)
	}
	stdout, _, exit := run.Wait()

	if exit != 0 {
		t.Fatalf("exit status %d, want 0", exit)
	}
	assertContains(t, "stdout", stdout, "Deploy lock is held by:\n", "Releasing the deploy lock...\n")
	assertPushed(t, version)
	assertNoLock(t)
}

// A hook of a run holding the lock calls kamal with KAMAL_LOCK=true: that
// kamal works as the lock holder, neither taking nor releasing the lock.
func TestKamalLockTrueRunsAsTheLockHolder(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	holdLock(t, "server1", automaticDetails)

	stdout, _, exit := app.RunEnv([]string{"KAMAL_LOCK=true"}, "build", "push")

	if exit != 0 {
		t.Fatalf("exit status %d, want 0", exit)
	}
	assertNotContains(t, "stdout", stdout, "Acquiring the deploy lock", "Releasing the deploy lock")
	assertPushed(t, version)
	if !exists(serverFile("server1", lockDir)) {
		t.Errorf("the parent run's lock was removed")
	}
}

// kamal lock and kamal registry are scripts: the app's
// .kamal/scripts/lock.star and registry.star replace the stock
// subcommands of the same name, against the real servers and registry.
func TestLockStatusAndRegistryLoginFromTheAppsScripts(t *testing.T) {
	app := newApp(t, "app")
	app.WriteFile(".kamal/scripts/lock.star", `def status():
    """Report lock status"""
    details = lock.status()
    say("the app's lock status: " + (details.split("\n")[-1] if details else "unlocked"))
`, 0o644)
	app.WriteFile(".kamal/scripts/registry.star", `def login(skip_local = False, skip_remote = False):
    """Log in to remote registry locally and remotely"""
    say("the app's login on " + ", ".join(config.hosts))
    on(config.hosts, lambda host: ssh.run(host, docker.login()))
`, 0o644)

	out := app.mustRun("lock", "status")
	assertContains(t, "lock status", out, "the app's lock status: unlocked\n")
	assertNotContains(t, "lock status", out, "There is no deploy lock")
	holdLock(t, "server1", "Locked by: someone at 2026-01-01T00:00:00Z\nVersion: 0\nMessage: Maintenance")
	assertContains(t, "lock status of a held lock", app.mustRun("lock", "status"), "the app's lock status: Message: Maintenance\n")

	app.writeHomeFile(".docker/config.json", "{}")
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}")
	}
	out = app.mustRun("registry", "login", "-h", "server2")
	assertContains(t, "registry login", out, "the app's login on server2\n", "Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on server2\n")
	assertNotContains(t, "registry login", out, "on localhost\n", "pre-connect")
	if cfg := readFile(t, serverFile("server2", ".docker/config.json")); !strings.Contains(cfg, rig.Registry) {
		t.Errorf("the app's login did not log server2 in: %s", cfg)
	}
	if cfg := readFile(t, filepath.Join(app.Home, ".docker/config.json")); strings.Contains(cfg, rig.Registry) {
		t.Errorf("the stock login ran: the local docker config has %s: %s", rig.Registry, cfg)
	}
}

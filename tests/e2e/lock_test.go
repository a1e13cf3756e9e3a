package e2e

import (
	"os"
	"testing"
)

func TestPushRefusesWhileTheDeployLockIsHeld(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	details := "Locked by: someone at 2026-01-01T00:00:00Z\nVersion: 0\nMessage: manual"
	holdLock(t, "server1", details)
	detailsFile := serverFile("server1", lockDir+"/details")
	before, err := os.ReadFile(detailsFile)
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, exit := app.Run("build", "push")

	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::LockError", "Deploy lock found. Run 'kamal lock help' for more information")
	assertContains(t, "stdout", stdout, "Acquiring the deploy lock...\n", "Deploy lock already in place!\n", details+"\n")
	assertNotContains(t, "stdout", stdout, "Running the pre-build hook...", "docker build")
	assertNotPushed(t, version)
	// The lock belongs to someone else: a refused run must leave it alone.
	if after, err := os.ReadFile(detailsFile); err != nil || string(after) != string(before) {
		t.Errorf("the held lock changed: %q (err %v), want %q", after, err, before)
	}
}

package e2e

import "testing"

func TestFailingPreBuildHookStopsThePushAndReleasesTheLock(t *testing.T) {
	app := newApp(t, "app")
	app.WriteFile(".kamal/hooks/pre-build", "#!/bin/sh\necho 'pre-build: refusing to build'\nexit 1\n", 0o755)
	version := app.Commit("a pre-build hook that fails")

	stdout, stderr, exit := app.Run("build", "push")

	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::HookError", "Hook `pre-build` failed:", "pre-build: refusing to build")
	assertContains(t, "stdout", stdout, "Running the pre-build hook...\n")
	assertNotContains(t, "stdout", stdout, "docker build")
	assertNotPushed(t, version)
	assertNoLock(t)
}

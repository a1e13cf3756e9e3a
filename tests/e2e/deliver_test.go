package e2e

import "testing"

func TestDeliverPushesBothTagsAndPullsOnEveryServer(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()

	app.mustRun("build", "deliver")

	assertPushed(t, version)
	// All servers share one dockerd, so the per-server evidence of a pull is
	// the audit line each writes in its own home.
	assertPulledOn(t, version, rig.Hosts...)
	if !dockerImageExists(t, imageRef(version)) {
		t.Errorf("docker has no %s after deliver", imageRef(version))
	}
	assertNoLock(t)
}

func TestKamal2DeliverLogsInToTheRegistryItselfAndPullsOnEveryServer(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()
	// Log every server out: the pull can only work if kamal logs them in.
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}")
	}

	app.mustRun("build", "deliver")

	assertPushed(t, version)
	assertPulledOn(t, version, rig.Hosts...)
	if !dockerImageExists(t, imageRef(version)) {
		t.Errorf("docker has no %s after deliver", imageRef(version))
	}
	assertNoLock(t)
}

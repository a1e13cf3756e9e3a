package e2e

import (
	"path/filepath"
	"testing"
)

func TestDryRunDeliverPrintsTheRealRunsLinesAndLeavesNoTrace(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()

	dry := app.mustRun("build", "deliver", "--dry-run")

	assertNotPushed(t, version)
	assertNotPulledOn(t, version, rig.Hosts...)
	if dockerImageExists(t, imageRef(version)) {
		t.Errorf("docker has %s after a dry run", imageRef(version))
	}
	assertNoLock(t)

	real := app.mustRun("build", "deliver")
	if a, b := app.normalize(dry), app.normalize(real); a != b {
		t.Errorf("dry run and real run print different lines; - dry + real:\n%s", lineDiff(a, b))
	}
}

// Kamal 2's push logs in and clones locally: a dry run must do neither.
func TestKamal2DryRunPushPrintsTheRealRunsLinesAndLeavesNoTrace(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()

	dry := app.mustRun("build", "push", "--dry-run")

	assertNotPushed(t, version)
	if dockerImageExists(t, imageRef(version)) {
		t.Errorf("docker has %s after a dry run", imageRef(version))
	}
	for _, p := range []string{filepath.Join(app.Tmp, "kamal-clones"), filepath.Join(app.Home, ".docker", "config.json")} {
		if exists(p) {
			t.Errorf("the dry run created %s", p)
		}
	}

	real := app.mustRun("build", "push")
	if a, b := app.normalize(dry), app.normalize(real); a != b {
		t.Errorf("dry run and real run print different lines; - dry + real:\n%s", lineDiff(a, b))
	}
}

package e2e

import "testing"

// The goldens are real Kamal transcripts, normalised (testdata/reference).

func TestKamal1PushPrintsTheSeedTranscriptsLines(t *testing.T) {
	app := newApp(t, "app")
	assertGolden(t, "kamal1-build-push", app.normalize(app.mustRun("build", "push")))
}

func TestKamal1DeliverPrintsTheReferenceTranscriptsLines(t *testing.T) {
	app := newApp(t, "app")
	assertGolden(t, "kamal1-build-deliver", app.normalize(app.mustRun("build", "deliver")))
}

func TestKamal2PushPrintsTheReferenceTranscriptsLines(t *testing.T) {
	app := newApp(t, "app-kamal2")
	assertGolden(t, "kamal2-build-push", app.normalize(app.mustRun("build", "push")))
}

func TestKamal2DeliverPrintsTheReferenceTranscriptsLines(t *testing.T) {
	app := newApp(t, "app-kamal2")
	assertGolden(t, "kamal2-build-deliver", app.normalize(app.mustRun("build", "deliver")))
}

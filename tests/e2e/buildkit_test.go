package e2e

import (
	"strings"
	"testing"
)

// needBuildkitImage skips tests of buildx's docker-container driver: it runs
// BuildKit in a moby/buildkit container, and no registry here serves that image.
func needBuildkitImage(t *testing.T) {
	t.Helper()
	needRig(t)
	if rig.Env["RIG_BUILDKIT_IMAGE"] == "" {
		t.Skip("no buildkit image is available: the docker-container driver needs moby/buildkit, which the rig does not provide yet")
	}
}

func TestKamal2PushWithTheDockerContainerDriverPushesTheImage(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, app.Dir+"/config/deploy.yml")
	app.WriteFile("config/deploy.yml", strings.Replace(cfg, "driver: docker\n", "driver: docker-container\n", 1), 0o644)
	version := app.Commit("docker-container driver")

	app.mustRun("build", "push")

	assertPushed(t, version)
}

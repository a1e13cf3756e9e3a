package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The Kamal 1.9 generation end to end: the sample Kamal 1 app pinned to
// kamal 1.9.2 by its Gemfile.lock builds from a local clone, pushes to the
// rig's registry and pulls on the rig's servers, with no deploy lock.

// pinKamal commits a Gemfile.lock locking kamal at version, as an app that
// runs Kamal through Bundler has; it returns the new HEAD.
func pinKamal(app *App, version string) string {
	app.WriteFile("Gemfile.lock", "GEM\n  remote: https://rubygems.org/\n  specs:\n    kamal ("+version+")\n      sshkit (>= 1.23.0, < 2.0)\n    sshkit (1.23.0)\n\n"+
		"PLATFORMS\n  ruby\n\nDEPENDENCIES\n  kamal (= "+version+")\n\nBUNDLED WITH\n   2.5.22\n", 0o644)
	return app.Commit("pin kamal " + version)
}

func TestKamal19PinnedAppPushesFromACloneAndPullsOnEveryServer(t *testing.T) {
	app := newApp(t, "app")
	version := pinKamal(app, "1.9.2")
	committed := readFile(t, filepath.Join(app.Dir, "index.html"))
	app.WriteFile("index.html", "<p>uncommitted edit</p>\n", 0o644)
	app.WriteFile("untracked.txt", "not in git\n", 0o644)

	details := app.mustRun("build", "details", "-v")
	assertContains(t, "details", details, " DEBUG Kamal 1.9 generation (follows Kamal 1.9.2): Gemfile.lock pins kamal (1.9.2)\n", "Builder: native\n")

	push := app.mustRun("build", "push")

	assertContains(t, "push stdout", push,
		"Running docker --version on localhost\n",
		"Running the pre-build hook...\n",
		"Building from a local git clone, so ignoring these uncommitted changes:\n M index.html\n?? untracked.txt\n",
		"  INFO Cloning repo into build directory `"+app.Tmp+"/kamal-clones/app-",
		"Running /usr/bin/env true on localhost\n",
		"Running docker build -t "+rig.Registry+"/app:"+version+" -t "+rig.Registry+"/app:latest --label service=\"app\" --build-arg [REDACTED] --file Dockerfile . && docker push ")
	// Kamal 1.9's push touches no server: no pre-connect hook, no run
	// directory, no lock.
	assertNotContains(t, "push stdout", push, "pre-connect", "deploy lock", "mkdir", " on server", "git archive")
	assertPushed(t, version) // HEAD's sha: a clone build never gets _uncommitted_
	if got := registryImageFile(t, "app", version, "index.html"); got != committed {
		t.Errorf("the image's index.html is %q, want the committed %q: the build did not run in the clone", got, committed)
	}

	// Servers that never had `kamal deploy` have no .kamal: Kamal 1.9.2's
	// pull fails there on its audit line; kamal-go creates it, unlogged.
	for _, h := range rig.Hosts {
		if err := os.RemoveAll(serverFile(h, ".kamal")); err != nil {
			t.Fatal(err)
		}
	}
	pull := app.mustRun("build", "pull")

	assertContains(t, "pull stdout", pull, "Running the pre-connect hook...\n")
	for _, h := range rig.Hosts {
		// Mirror detection on every selected host, then the pull.
		assertContains(t, "pull stdout", pull,
			"Running docker info --format '{{index .RegistryConfig.Mirrors 0}}' on "+h+"\n",
			"Running docker pull "+rig.Registry+"/app:"+version+" on "+h+"\n")
	}
	assertNotContains(t, "pull stdout", pull, "deploy lock", "mkdir", "docker login")
	if i, j := strings.Index(pull, "pre-connect"), strings.Index(pull, "docker info"); i < 0 || j < i {
		t.Errorf("the pre-connect hook did not run before the first connection")
	}
	assertPulledOn(t, version, rig.Hosts...)
	if !dockerImageExists(t, imageRef(version)) {
		t.Errorf("docker has no %s after the pull", imageRef(version))
	}
	assertNoLock(t)
}

// Kamal 1.9 passes a builder secret as `--secret id="NAME"` and never reads
// it: docker reads $NAME from the environment kamal runs in, at build time
// (commands/builder/base.rb build_secrets), natively and with the
// multiarch buildx builder. Set only in that environment (no .env), the
// RUN step sees it; set nowhere, docker reports it, not a KeyError.
func TestKamal19BuilderSecretIsReadByDockerFromTheEnvironment(t *testing.T) {
	needRig(t)
	base := shellImage(t)
	for _, tc := range []struct{ name, builder, builderName, build string }{
		{"native", "  multiarch: false\n", "", "Running docker build "},
		{"multiarch", "  multiarch: true\n  local:\n    arch: amd64\n    host: unix:///var/run/docker.sock\n", "kamal-app-multiarch",
			"Running docker buildx build --push --platform linux/amd64 --builder kamal-app-multiarch "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.builderName != "" {
				needBuildkitImage(t) // a docker-container builder
			}
			app := newApp(t, "app")
			if tc.builderName != "" {
				trackBuilders(t, app, tc.builderName)
			}
			secret := fmt.Sprintf("gh-token-%d-%s-only-in-the-image", os.Getpid(), tc.name)
			useSecret(secret)
			app.WriteFile("Dockerfile", "FROM "+base+"\n"+
				"RUN --mount=type=secret,id=GITHUB_TOKEN cp /run/secrets/GITHUB_TOKEN /secret-proof.txt\n", 0o644)
			replaceBuilder(t, app, tc.builder+"  secrets:\n    - GITHUB_TOKEN\n")
			version := pinKamal(app, "1.9.2")

			stdout, stderr, exit := app.RunEnv([]string{"GITHUB_TOKEN=" + secret}, "build", "push")
			if exit != 0 {
				t.Fatalf("push exited %d", exit)
			}
			assertContains(t, "stdout", stdout, tc.build, ` --secret id="GITHUB_TOKEN" `)
			assertNotContains(t, "output", stdout+stderr, secret)
			assertPushed(t, version)
			if got := registryImageFile(t, "app", version, "secret-proof.txt"); got != secret {
				t.Errorf("the secret the RUN step saw is %q, want $GITHUB_TOKEN's value", got)
			}

			stdout, stderr, exit = app.Run("build", "push")
			if exit != 1 {
				t.Fatalf("push without GITHUB_TOKEN exited %d, want 1", exit)
			}
			assertContains(t, "stdout", stdout, tc.build, ` --secret id="GITHUB_TOKEN" `, "ERROR (SSHKit::Command::Failed)")
			assertNotContains(t, "output", stdout+stderr, "KeyError")
			if tc.builderName != "" {
				app.mustRun("build", "remove")
				assertNothingLeft(t, app, tc.builderName)
			}
			assertNoLock(t)
		})
	}
}

// Kamal 1.9.2 renders the build command, which checks the Dockerfile,
// before it probes the builder's context hosts: nothing runs after the
// clone.
func TestKamal19MissingDockerfileIsReportedBeforeTheContextHostsProbe(t *testing.T) {
	app := newApp(t, "app")
	app.git("rm", "-q", "Dockerfile")
	app.Commit("no Dockerfile")
	pinKamal(app, "1.9.2")
	stdout, stderr, exit := app.Run("build", "push")
	assertFailed(t, stdout, stderr, exit, "Kamal::Commands::Builder::Base::BuilderError", "Missing Dockerfile")
	assertContains(t, "stdout", stdout, "Cloning repo into build directory")
	assertNotContains(t, "stdout", stdout, "Running /usr/bin/env true on localhost", "docker build")
	assertNoLock(t)
}

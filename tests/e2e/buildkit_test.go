package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Tests of the builders that run BuildKit in a container (buildx's
// docker-container driver): Kamal 2's default builder, remote, hybrid, the
// cache, secrets, ssh and attestation options, and Kamal 1's buildx
// builders. The rig makes BuildKit boot here (tests/rig/capsrunc,
// tests/rig/buildkit): its BuildKit runs in its dockerd's network
// namespace, so it reaches the rig's registry on 127.0.0.1.

// needBuildkitImage skips tests of buildx's docker-container driver when the
// rig has no BuildKit image (it fails them in CI, where the rig must have it).
func needBuildkitImage(t *testing.T) {
	t.Helper()
	needRig(t)
	if rig.Env["RIG_BUILDKIT_IMAGE"] == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("RIG_BUILDKIT_IMAGE is empty: tests/rig/up must provide BuildKit in CI (see tests/rig/buildkit)")
		}
		t.Skip("no buildkit image: run tests/rig/up (it runs tests/rig/buildkit)")
	}
}

// replaceBuilder replaces the app's builder section by builder (YAML under
// "builder:", two-space indented) and commits; it returns the new version.
func replaceBuilder(t *testing.T, app *App, builder string) string {
	t.Helper()
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	i, j := strings.Index(cfg, "builder:\n"), strings.Index(cfg, "\nssh:\n")
	if i < 0 || j < i {
		t.Fatalf("no builder section to replace:\n%s", cfg)
	}
	cfg = cfg[:i] + "builder:\n" + builder + cfg[j:]
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	return app.Commit("builder")
}

// dockerHosts are the dockerds a builder may run on: the rig's, and each
// netns server's when the mini-rig is up.
func dockerHosts() []string {
	hosts := []string{""}
	if netnsStarted && netnsSkip == "" && netnsErr == nil {
		for _, h := range netnsHosts {
			hosts = append(hosts, "unix://"+netnsSocket[h])
		}
	}
	return hosts
}

func dockerOn(host string, args ...string) *exec.Cmd {
	if host != "" {
		args = append([]string{"-H", host}, args...)
	}
	return exec.Command("docker", args...)
}

// buildkitLeftovers lists what buildx made for the named builders and is
// still there: BuildKit containers and state volumes in every dockerd,
// builders and docker contexts in the app's docker config.
func buildkitLeftovers(t *testing.T, app *App, builders ...string) []string {
	t.Helper()
	var left []string
	for _, host := range dockerHosts() {
		where := host
		if where == "" {
			where = "the rig's dockerd"
		}
		for _, what := range [][]string{{"ps", "-a", "--format", "{{.Names}}"}, {"volume", "ls", "--format", "{{.Name}}"}} {
			out, err := dockerOn(host, what...).Output()
			if err != nil {
				t.Fatalf("docker %s on %s: %v", what[0], where, err)
			}
			for _, name := range strings.Fields(string(out)) {
				for _, b := range builders {
					if strings.HasPrefix(name, "buildx_buildkit_"+b) {
						left = append(left, fmt.Sprintf("%s %s on %s", what[0], name, where))
					}
				}
			}
		}
	}
	for _, what := range [][]string{{"buildx", "ls", "--format", "{{.Name}}"}, {"context", "ls", "--format", "{{.Name}}"}} {
		c := exec.Command("docker", what...)
		c.Env = app.env(nil)
		out, err := c.Output()
		if err != nil {
			t.Fatalf("docker %s: %v", strings.Join(what, " "), err)
		}
		for _, name := range strings.Fields(string(out)) {
			for _, b := range builders {
				if strings.HasPrefix(name, b) {
					left = append(left, what[0]+" "+name)
				}
			}
		}
	}
	sort.Strings(left)
	return left
}

// assertNothingLeft fails the test when anything of builders is still there.
func assertNothingLeft(t *testing.T, app *App, builders ...string) {
	t.Helper()
	if left := buildkitLeftovers(t, app, builders...); len(left) > 0 {
		t.Errorf("left behind:\n  %s", strings.Join(left, "\n  "))
	}
}

// trackBuilders removes whatever of builders the test leaves (after a
// failure), so later tests start clean; a passing test must have removed
// everything itself (it calls assertNothingLeft).
func trackBuilders(t *testing.T, app *App, builders ...string) {
	t.Helper()
	clean := func() {
		for _, b := range builders {
			c := exec.Command("docker", "buildx", "rm", "--force", b)
			c.Env = app.env(nil)
			c.Run()
		}
		for _, host := range dockerHosts() {
			for _, what := range [][]string{{"ps", "-a", "--format", "{{.Names}}"}, {"volume", "ls", "--format", "{{.Name}}"}} {
				out, _ := dockerOn(host, what...).Output()
				for _, name := range strings.Fields(string(out)) {
					for _, b := range builders {
						if strings.HasPrefix(name, "buildx_buildkit_"+b) {
							if what[0] == "ps" {
								dockerOn(host, "rm", "--force", "--volumes", name).Run()
							} else {
								dockerOn(host, "volume", "rm", "--force", name).Run()
							}
						}
					}
				}
			}
		}
	}
	clean() // a builder of an earlier, interrupted run
	t.Cleanup(clean)
}

// useRigSSH lets the app's docker client (which runs OpenSSH for ssh://
// contexts) reach the rig's servers and the netns servers: OpenSSH reads
// ~/.ssh/config from the passwd home, not $HOME, so an ssh first on PATH
// points it at the test's config. It returns the extra environment.
func useRigSSH(t *testing.T, app *App) []string {
	t.Helper()
	app.writeHomeFile(".ssh/config", fmt.Sprintf(
		"Host server1 server2 server3\n  Port %s\nHost netns1 netns2 netns3\n  Port 22\nHost *\n  IdentityFile %s\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n",
		rig.SSHPort, rig.SSHKey))
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	app.writeHomeFile("bin/ssh", "#!/bin/sh\nexec "+sshBin+" -F \"$HOME/.ssh/config\" \"$@\"\n")
	if err := os.Chmod(filepath.Join(app.Home, "bin/ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + filepath.Join(app.Home, "bin") + ":" + os.Getenv("PATH")}
}

func mustRunEnv(t *testing.T, app *App, env []string, args ...string) string {
	t.Helper()
	stdout, _, exit := app.RunEnv(env, args...)
	if exit != 0 {
		t.Fatalf("kamal %s exited %d (output logged above)", strings.Join(args, " "), exit)
	}
	return stdout
}

var (
	shellImageOnce sync.Once
	shellImageRef  string
	shellImageErr  error
)

// shellImage is a base image with a shell for RUN steps, in the rig's
// registry (BuildKit pulls base images itself): made with `docker import`
// from this machine's /bin/sh, cat, cp, ls and their libraries.
func shellImage(t *testing.T) string {
	t.Helper()
	shellImageOnce.Do(func() {
		root, err := os.MkdirTemp("", "kgo-shell-image-")
		if err != nil {
			shellImageErr = err
			return
		}
		defer os.RemoveAll(root)
		script := `set -e
mkdir -p "$ROOT/usr/bin" "$ROOT/tmp" "$ROOT/run" "$ROOT/etc"
ln -s usr/bin "$ROOT/bin"
for n in sh cat cp ls echo test wc; do
  b=$(readlink -f "$(command -v "$n" | grep / || echo "/usr/bin/$n")")
  install -D "$b" "$ROOT/usr/bin/$n"
  for l in $(ldd "$b" | grep -o '/[^ ]*'); do install -D "$l" "$ROOT$l"; done
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
`
		c := exec.Command("sh", "-c", script)
		c.Env = append(os.Environ(), "ROOT="+root)
		if out, err := c.CombinedOutput(); err != nil {
			shellImageErr = fmt.Errorf("making the shell image's root: %v\n%s", err, out)
			return
		}
		ref := rig.Registry + "/rig/shell:1"
		cfg, err := os.MkdirTemp("", "kgo-shell-docker-")
		if err != nil {
			shellImageErr = err
			return
		}
		defer os.RemoveAll(cfg)
		os.WriteFile(filepath.Join(cfg, "config.json"), []byte(dockerConfig(rig.User, rig.Password)), 0o600)
		c = exec.Command("sh", "-c", `tar -C "$ROOT" -c . | docker import --change 'ENV PATH=/usr/bin:/bin' - "$REF" && docker --config "$CFG" push "$REF"`)
		c.Env = append(os.Environ(), "ROOT="+root, "REF="+ref, "CFG="+cfg)
		if out, err := c.CombinedOutput(); err != nil {
			shellImageErr = fmt.Errorf("docker import/push %s: %v\n%s", ref, err, out)
			return
		}
		shellImageRef = ref
	})
	if shellImageErr != nil {
		t.Fatal(shellImageErr)
	}
	return shellImageRef
}

// --- Kamal 2's default builder: docker-container -----------------------------

const localBuilder = "kamal-local-docker-container"

func TestKamal2DefaultBuilderCreatePushPullRecreateDevRemove(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	// No driver: Kamal 2's default, docker-container.
	version := replaceBuilder(t, app, "  arch: amd64\n")

	stdout := app.mustRun("build", "create")
	assertContains(t, "stdout", stdout, "Running docker buildx create --name "+localBuilder+" --driver=docker-container on localhost\n")

	stdout = app.mustRun("build", "details")
	assertContains(t, "stdout", stdout, "Builder: local\n", localBuilder+"0", "docker-container")

	stdout = app.mustRun("build", "push")
	assertContains(t, "stdout", stdout,
		"Running docker buildx inspect "+localBuilder+" on localhost\n",
		"Running docker buildx build --output=type=registry --platform linux/amd64 --builder "+localBuilder+" -t "+imageRef(version)+" -t "+rig.Registry+"/app:latest")
	assertNotContains(t, "stdout", stdout, "Missing compatible builder")
	assertPushed(t, version)
	if got := registryImageFile(t, "app", version, "index.html"); got != readFile(t, filepath.Join(app.Dir, "index.html")) {
		t.Errorf("the pushed image's index.html is %q", got)
	}
	if out, err := exec.Command("docker", "ps", "--format", "{{.Names}}", "--filter", "name=buildx_buildkit_"+localBuilder).Output(); err != nil || !strings.Contains(string(out), "buildx_buildkit_"+localBuilder+"0") {
		t.Errorf("no running BuildKit container for %s after the push (%v): %s", localBuilder, err, out)
	}

	stdout = app.mustRun("build", "pull")
	assertContains(t, "stdout", stdout, "Running docker pull "+imageRef(version)+" on server1\n")
	assertPulledOn(t, version, rig.Hosts...)

	// Removed: the next push finds no builder, re-creates it and builds
	// without the cache.
	stdout = app.mustRun("build", "remove")
	assertContains(t, "stdout", stdout, "Running docker buildx rm "+localBuilder+" on localhost\n")
	assertNothingLeft(t, app, localBuilder)
	app.WriteFile("index.html", "<p>second</p>\n", 0o644)
	version = app.Commit("second")
	stdout = app.mustRun("build", "push", "--no-cache")
	assertContains(t, "stdout", stdout,
		"WARN Missing compatible builder, so creating a new one first\n",
		"Running docker buildx rm "+localBuilder+" on localhost\n",
		"Running docker buildx create --name "+localBuilder+" --driver=docker-container on localhost\n",
		" --no-cache . 2>&1 on localhost\n")
	assertPushed(t, version)
	if got := registryImageFile(t, "app", version, "index.html"); got != "<p>second</p>\n" {
		t.Errorf("the re-created builder pushed index.html %q", got)
	}

	app.WriteFile("index.html", "<p>third</p>\n", 0o644)
	version = app.Commit("third")
	stdout = app.mustRun("build", "deliver")
	assertContains(t, "stdout", stdout, "Running docker pull "+imageRef(version)+" on server3\n")
	assertPushed(t, version)
	assertPulledOn(t, version, rig.Hosts...)

	// dev builds the working tree into the local image store.
	app.WriteFile("index.html", "<p>dirty</p>\n", 0o644)
	stdout = app.mustRun("build", "dev")
	dirty := rig.Registry + "/app:" + version + "-dirty"
	assertContains(t, "stdout", stdout, "Running docker buildx build --output=type=docker --platform linux/amd64 --builder "+localBuilder+" -t "+dirty)
	t.Cleanup(func() {
		exec.Command("docker", "image", "rm", "--force", dirty, rig.Registry+"/app:latest-dirty").Run()
	})
	if !dockerImageExists(t, dirty) {
		t.Errorf("kamal build dev left no %s in the local image store", dirty)
	}

	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

// A missing builder secret fails the push before the builder is inspected
// or created: no builder, container or volume is made.
func TestKamal2MissingBuilderSecretLeavesNoBuilder(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	version := replaceBuilder(t, app, "  arch: amd64\n  secrets:\n    - NOT_IN_THE_SECRETS_FILE\n")

	stdout, stderr, exit := app.Run("build", "push")
	assertFailed(t, stdout, stderr, exit, "Kamal::ConfigurationError", "Secret 'NOT_IN_THE_SECRETS_FILE' not found")
	assertNotContains(t, "stdout", stdout, "docker buildx inspect", "docker buildx create")
	assertNothingLeft(t, app, localBuilder)
	assertNotPushed(t, version)
}

// --- multi-platform, attestations --------------------------------------------

// registryIndex is the OCI index (manifest list) of repo:tag.
type registryIndex struct {
	Manifests []struct {
		Digest      string
		Platform    struct{ Architecture, OS string }
		Annotations map[string]string
	}
}

func readRegistryIndex(t *testing.T, repo, tag string) registryIndex {
	t.Helper()
	var idx registryIndex
	registryJSON(t, "/v2/"+repo+"/manifests/"+tag, &idx)
	return idx
}

// platformsOf lists OS/arch of an index's images (attestations excluded).
func platformsOf(idx registryIndex) []string {
	var out []string
	for _, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			continue
		}
		out = append(out, m.Platform.OS+"/"+m.Platform.Architecture)
	}
	sort.Strings(out)
	return out
}

// attestations are the predicate types of every attestation in the index.
func attestations(t *testing.T, repo string, idx registryIndex) []string {
	t.Helper()
	var types []string
	for _, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		var man struct {
			Layers []struct {
				Digest      string
				Annotations map[string]string
			}
		}
		registryJSON(t, "/v2/"+repo+"/manifests/"+m.Digest, &man)
		for _, l := range man.Layers {
			types = append(types, l.Annotations["in-toto.io/predicate-type"])
		}
	}
	sort.Strings(types)
	return types
}

func TestKamal2TwoPlatformManifestListWithProvenance(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	version := replaceBuilder(t, app, "  arch:\n    - amd64\n    - arm64\n  provenance: mode=max\n")

	stdout := app.mustRun("build", "push")
	assertContains(t, "stdout", stdout, "--platform linux/amd64,linux/arm64 --builder "+localBuilder, " --provenance mode=max . 2>&1")
	assertPushed(t, version)
	idx := readRegistryIndex(t, "app", version)
	if got := strings.Join(platformsOf(idx), " "); got != "linux/amd64 linux/arm64" {
		t.Errorf("the manifest list holds %q, want linux/amd64 linux/arm64", got)
	}
	for _, m := range idx.Manifests {
		if m.Platform.Architecture == "arm64" {
			if got := registryImageFile(t, "app", m.Digest, "index.html"); got != readFile(t, filepath.Join(app.Dir, "index.html")) {
				t.Errorf("the arm64 image's index.html is %q", got)
			}
		}
	}
	// One provenance attestation per platform.
	if got := attestations(t, "app", idx); strings.Join(got, " ") != "https://slsa.dev/provenance/v0.2 https://slsa.dev/provenance/v0.2" &&
		strings.Join(got, " ") != "https://slsa.dev/provenance/v1 https://slsa.dev/provenance/v1" {
		t.Errorf("attestations %q, want one provenance per platform", got)
	}

	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

// --- target, dockerfile, context ----------------------------------------------

func TestKamal2TargetDockerfileAndContext(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	app.WriteFile("web/dev.txt", "dev stage\n", 0o644)
	app.WriteFile("web/prod.txt", "prod stage\n", 0o644)
	app.WriteFile("docker/Dockerfile.web", "FROM scratch AS dev\nCOPY dev.txt /stage.txt\n\nFROM scratch AS prod\nCOPY prod.txt /stage.txt\n\nFROM dev\n", 0o644)
	version := replaceBuilder(t, app, "  arch: amd64\n  context: web\n  dockerfile: docker/Dockerfile.web\n  target: prod\n")

	stdout := app.mustRun("build", "push")
	assertContains(t, "stdout", stdout, `--file docker/Dockerfile.web --target prod web 2>&1`)
	assertPushed(t, version)
	if got := registryImageFile(t, "app", version, "stage.txt"); got != "prod stage\n" {
		t.Errorf("stage.txt is %q, want the prod stage's (target) from web/ (context)", got)
	}
	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

// --- registry cache -------------------------------------------------------------

func TestKamal2RegistryCacheServesASecondBuildFromANewBuilder(t *testing.T) {
	needBuildkitImage(t)
	base := shellImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	// The RUN step writes a fresh random id each time it really runs.
	app.WriteFile("Dockerfile", "FROM "+base+"\nRUN cat /proc/sys/kernel/random/uuid > /run-id.txt\nCOPY index.html /index.html\n", 0o644)
	first := replaceBuilder(t, app, "  arch: amd64\n  cache:\n    type: registry\n    options: mode=max\n")
	cacheRepo := "app-build-cache"

	stdout := app.mustRun("build", "push")
	assertContains(t, "stdout", stdout, "--cache-to type=registry,ref="+rig.Registry+"/"+cacheRepo+",mode=max", "--cache-from type=registry,ref="+rig.Registry+"/"+cacheRepo)
	assertPushed(t, first)
	if len(registryTags(t, cacheRepo)) == 0 {
		t.Fatalf("no cache image %s in the registry after the first build", cacheRepo)
	}
	runID := registryImageFile(t, "app", first, "run-id.txt")

	// A fresh builder has no local cache: the RUN step can only come from
	// the registry cache, with the first build's id.
	app.mustRun("build", "remove")
	app.WriteFile("index.html", "<p>cached</p>\n", 0o644)
	second := app.Commit("second")
	stdout = app.mustRun("build", "push", "-v")
	assertContains(t, "stdout", stdout, "importing cache manifest from "+rig.Registry+"/"+cacheRepo)
	assertPushed(t, second)
	if got := registryImageFile(t, "app", second, "run-id.txt"); got != runID {
		t.Errorf("the second build ran its RUN step again (id %q, the cached one is %q)", got, runID)
	}
	if got := registryImageFile(t, "app", second, "index.html"); got != "<p>cached</p>\n" {
		t.Errorf("the second build's index.html is %q", got)
	}
	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

// --- secrets and ssh --------------------------------------------------------------

func TestKamal2BuildSecretAndSSHReachRunSteps(t *testing.T) {
	needBuildkitImage(t)
	base := shellImage(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	secret := fmt.Sprintf("build-token-%d-only-in-the-image", os.Getpid())
	useSecret(secret)
	app.WriteFile(".kamal/secrets", readFile(t, filepath.Join(app.Dir, ".kamal/secrets"))+"BUILD_TOKEN="+secret+"\n", 0o600)
	app.WriteFile("Dockerfile", "FROM "+base+"\n"+
		"RUN --mount=type=secret,id=BUILD_TOKEN cp /run/secrets/BUILD_TOKEN /secret-proof.txt\n"+
		"RUN --mount=type=ssh test -S \"$SSH_AUTH_SOCK\" && echo agent > /ssh-proof.txt\n", 0o644)
	version := replaceBuilder(t, app, "  arch: amd64\n  secrets:\n    - BUILD_TOKEN\n  ssh: default\n")

	// An agent for --ssh default (buildx forwards $SSH_AUTH_SOCK).
	sock := filepath.Join(app.Tmp, "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	for i := 0; i < 50 && !exists(sock); i++ {
		exec.Command("sleep", "0.1").Run()
	}

	stdout, stderr, exit := app.RunEnv([]string{"SSH_AUTH_SOCK=" + sock}, "build", "push", "-v")
	if exit != 0 {
		t.Fatalf("push exited %d", exit)
	}
	assertContains(t, "stdout", stdout, `--secret id="BUILD_TOKEN"`, "--ssh default")
	assertNotContains(t, "output", stdout+stderr, secret)
	assertPushed(t, version)
	if got := registryImageFile(t, "app", version, "secret-proof.txt"); got != secret {
		t.Errorf("the secret the RUN step saw is %q, want the secrets file's value", got)
	}
	if got := registryImageFile(t, "app", version, "ssh-proof.txt"); got != "agent\n" {
		t.Errorf("ssh-proof.txt is %q: the RUN step had no forwarded agent", got)
	}
	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

// --- remote and hybrid ------------------------------------------------------------

// A remote builder on a netns server (its own dockerd and loopback), with
// every arch built there (local: false) and the local registry reached
// through Kamal's forward of its port to the builder host.
func TestKamal2RemoteBuilderOnANetnsHostPushesThroughTheLocalRegistryForward(t *testing.T) {
	needBuildkitImage(t)
	needNetnsRig(t)
	port := freePort(t)
	app := netnsApp(t, port)
	const name = "kamal-remote-ssh---root-netns1-local-registry"
	trackBuilders(t, app, name)
	env := useRigSSH(t, app)
	version := replaceBuilder(t, app, "  arch: amd64\n  local: false\n  remote: ssh://root@netns1\n")
	ref := localRegistryRef(port, version)
	removeNetnsImages(t, ref)
	t.Cleanup(func() { removeNetnsImages(t, ref); exec.Command("docker", "image", "rm", "--force", ref).Run() })

	stdout := mustRunEnv(t, app, env, "build", "push")
	assertContains(t, "stdout", stdout,
		"Running docker context create "+name+"-context --description '"+name+" host' --docker 'host=ssh://root@netns1' ; docker buildx create --name "+name+" --driver-opt network=host "+name+"-context on localhost\n",
		"Setting up local registry port forwarding to netns1...\n",
		"--builder "+name+" -t "+ref)
	if tags := localRegistryTags(t, port, "app"); !strings.Contains(tags, version) {
		t.Errorf("the local registry lacks %s after the remote build: %s", version, tags)
	}
	out, _ := dockerOn("unix://"+netnsSocket["netns1"], "ps", "--format", "{{.Names}}").Output()
	if !strings.Contains(string(out), "buildx_buildkit_"+name+"0") {
		t.Errorf("BuildKit did not run on netns1's own dockerd: %s", out)
	}

	mustRunEnv(t, app, env, "build", "pull")
	for _, h := range netnsHosts {
		if !netnsImageExists(t, h, ref) {
			t.Errorf("%s has no %s after the pull", h, ref)
		}
	}

	stdout = mustRunEnv(t, app, env, "build", "remove")
	assertContains(t, "stdout", stdout, "Running docker buildx rm "+name+" ; docker context rm "+name+"-context on localhost\n")
	assertNothingLeft(t, app, name)
}

// Hybrid: amd64 (this machine's arch) on a local docker-container node,
// arm64 on the remote server1 node; one manifest list of both.
func TestKamal2HybridBuilderSplitsArchesAndRemoveLeavesNothing(t *testing.T) {
	needBuildkitImage(t)
	app := newApp(t, "app-kamal2")
	const name = "kamal-hybrid-docker-container-ssh---root-server1"
	trackBuilders(t, app, name)
	env := useRigSSH(t, app)
	// Kamal 2 logs in nowhere for a hybrid builder: the user's docker is.
	app.writeHomeFile(".docker/config.json", dockerConfig(rig.User, rig.Password))
	version := replaceBuilder(t, app, "  arch:\n    - amd64\n    - arm64\n  remote: ssh://root@server1\n")

	stdout := mustRunEnv(t, app, env, "build", "create")
	assertContains(t, "stdout", stdout,
		"Running docker buildx create --platform linux/amd64 --name "+name+" --driver=docker-container && docker context create "+name+"-context --description '"+name+" host' --docker 'host=ssh://root@server1' && docker buildx create --platform linux/arm64 --append --name "+name+" "+name+"-context on localhost\n")
	stdout = mustRunEnv(t, app, env, "build", "push")
	assertNotContains(t, "stdout", stdout, "Missing compatible builder")
	assertPushed(t, version)
	if got := strings.Join(platformsOf(readRegistryIndex(t, "app", version)), " "); got != "linux/amd64 linux/arm64" {
		t.Errorf("the manifest list holds %q, want linux/amd64 linux/arm64", got)
	}
	// Both nodes ran: one BuildKit container each.
	out, _ := exec.Command("docker", "ps", "--format", "{{.Names}}").Output()
	for _, node := range []string{name + "0", name + "1"} {
		if !strings.Contains(string(out), "buildx_buildkit_"+node) {
			t.Errorf("no BuildKit container for node %s: %s", node, out)
		}
	}

	// The builder goes before its context (Kamal's order fails here and
	// leaves both BuildKit containers).
	stdout = mustRunEnv(t, app, env, "build", "remove")
	assertContains(t, "stdout", stdout, "Running docker buildx rm "+name+" ; docker context rm "+name+"-context on localhost\n")
	assertNothingLeft(t, app, name)
}

// --- Kamal 1's buildx builders ----------------------------------------------------

func TestKamal1BuildxBuilders(t *testing.T) {
	needBuildkitImage(t)
	for _, tc := range []struct {
		name, builder, builderName string
		want                       []string // parts of the build command
		platforms                  string   // of the pushed image ("" for a single image)
		remote                     bool
	}{
		{"multiarch", "  multiarch: true\n", "kamal-app-multiarch",
			[]string{"docker buildx build --push --platform linux/amd64,linux/arm64 --builder kamal-app-multiarch"}, "linux/amd64 linux/arm64", false},
		{"multiarch/remote", "  local:\n    arch: amd64\n    host: unix:///var/run/docker.sock\n  remote:\n    arch: arm64\n    host: ssh://root@server1\n", "kamal-app-multiarch-remote",
			[]string{"--platform linux/amd64,linux/arm64 --builder kamal-app-multiarch-remote"}, "linux/amd64 linux/arm64", true},
		// Kamal 1: a remote alone (multiarch left on) is native/remote.
		{"native/remote", "  remote:\n    arch: amd64\n    host: ssh://root@server1\n", "kamal-app-native-remote",
			[]string{"--platform linux/amd64 --builder kamal-app-native-remote"}, "", true},
		// native/cached selects its builder with `create --use`.
		{"native/cached", "  multiarch: false\n  cache:\n    type: registry\n", "kamal-app-native-cached",
			[]string{"docker buildx create --name kamal-app-native-cached --use --driver=docker-container", "docker buildx build --push -t " + rig.Registry + "/app:", "--cache-to type=registry,ref=" + rig.Registry + "/app-build-cache --cache-from type=registry,ref=" + rig.Registry + "/app-build-cache"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := newApp(t, "app")
			trackBuilders(t, app, tc.builderName)
			var env []string
			if tc.remote {
				env = useRigSSH(t, app)
			}
			version := replaceBuilder(t, app, tc.builder)
			stdout := mustRunEnv(t, app, env, "build", "push")
			assertContains(t, "stdout", stdout, tc.want...)
			assertPushed(t, version)
			if tc.platforms != "" {
				if got := strings.Join(platformsOf(readRegistryIndex(t, "app", version)), " "); got != tc.platforms {
					t.Errorf("pushed platforms %q, want %q", got, tc.platforms)
				}
			}
			mustRunEnv(t, app, env, "build", "remove")
			assertNothingLeft(t, app, tc.builderName)
			assertNoLock(t)
		})
	}
}

// registryJSON GETs path from the rig's registry and decodes it into v.
func registryJSON(t *testing.T, path string, v any) {
	t.Helper()
	resp := registryGet(t, "GET", path, map[string]string{
		"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json",
	})
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s\n%s", path, resp.Status, body.String())
	}
	if err := json.Unmarshal(body.Bytes(), v); err != nil {
		t.Fatalf("GET %s: %v\n%s", path, err, body.String())
	}
}

// --- sbom ---------------------------------------------------------------------

// scannerMirror is where the rig's BuildKit looks for docker.io images
// (tests/rig/buildkit's buildkitd.toml; SCANNER_MIRROR in tests/rig/lib.sh).
const scannerMirror = "127.0.0.1:5690"

// serveSBOMScanner serves, on scannerMirror, a stand-in for BuildKit's
// default SBOM generator docker/buildkit-syft-scanner:stable-1 (no registry
// here serves the real one). It follows BuildKit's SBOM protocol: it checks
// BUILDKIT_SCAN_SOURCE and BUILDKIT_SCAN_DESTINATION and writes, for the
// scanned root filesystem, an in-toto statement with an SPDX document that
// lists the files at its top level.
func serveSBOMScanner(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatal("docker-registry (Debian package) is needed to serve the SBOM scanner stand-in")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte("version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "+dir+"/data\nhttp:\n  addr: "+scannerMirror+"\n"), 0o644)
	reg := exec.Command(bin, "serve", cfg)
	if err := reg.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Process.Kill(); reg.Wait() })
	for i := 0; i < 50; i++ {
		if exec.Command("curl", "--noproxy", "*", "-sf", "http://"+scannerMirror+"/v2/").Run() == nil {
			break
		}
		exec.Command("sleep", "0.1").Run()
	}
	base := shellImage(t) // its root filesystem has /bin/sh
	scanner := `#!/bin/sh
# Stand-in for docker/buildkit-syft-scanner (BuildKit's SBOM protocol).
[ -d "$BUILDKIT_SCAN_SOURCE" ] || { echo "BUILDKIT_SCAN_SOURCE is not a directory: '$BUILDKIT_SCAN_SOURCE'" >&2; exit 1; }
[ -d "$BUILDKIT_SCAN_DESTINATION" ] || { echo "BUILDKIT_SCAN_DESTINATION is not a directory" >&2; exit 1; }
files=""
for f in "$BUILDKIT_SCAN_SOURCE"/*; do
  [ -e "$f" ] || continue
  files="$files{\"fileName\":\"/${f##*/}\",\"SPDXID\":\"SPDXRef-File-${f##*/}\"},"
done
files=${files%,}
name=${BUILDKIT_SCAN_SOURCE##*/}
echo "{\"_type\":\"https://in-toto.io/Statement/v0.1\",\"predicateType\":\"https://spdx.dev/Document\",\"predicate\":{\"spdxVersion\":\"SPDX-2.3\",\"dataLicense\":\"CC0-1.0\",\"SPDXID\":\"SPDXRef-DOCUMENT\",\"name\":\"$name\",\"creationInfo\":{\"creators\":[\"Tool: kamal-go-test-scanner\"]},\"files\":[$files]}}" >"$BUILDKIT_SCAN_DESTINATION/$name.spdx.json"
`
	ctx := t.TempDir()
	os.WriteFile(filepath.Join(ctx, "scan"), []byte(scanner), 0o755)
	ref := scannerMirror + "/docker/buildkit-syft-scanner:stable-1"
	// The classic builder: it builds FROM the image dockerd already has.
	c := exec.Command("sh", "-c", `docker tag "$BASE" kgo-scanner-base:1 && printf 'FROM kgo-scanner-base:1\nCOPY scan /bin/scan\nENTRYPOINT ["/bin/scan"]\n' >Dockerfile && DOCKER_BUILDKIT=0 docker build -q -t "$REF" . && docker push "$REF" && docker image rm "$REF" kgo-scanner-base:1`)
	c.Dir = ctx
	c.Env = append(os.Environ(), "BASE="+base, "REF="+ref)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("making the SBOM scanner stand-in: %v\n%s", err, out)
	}
}

func TestKamal2SBOMAttestationsArePushed(t *testing.T) {
	needBuildkitImage(t)
	serveSBOMScanner(t)
	app := newApp(t, "app-kamal2")
	trackBuilders(t, app, localBuilder)
	version := replaceBuilder(t, app, "  arch: amd64\n  sbom: true\n  provenance: mode=min\n")

	stdout := app.mustRun("build", "push")
	assertContains(t, "stdout", stdout, " --provenance mode=min --sbom true . 2>&1 on localhost\n")
	assertPushed(t, version)
	idx := readRegistryIndex(t, "app", version)
	if got := strings.Join(attestations(t, "app", idx), " "); got != "https://slsa.dev/provenance/v0.2 https://spdx.dev/Document" &&
		got != "https://slsa.dev/provenance/v1 https://spdx.dev/Document" {
		t.Fatalf("attestations %q, want provenance and an SPDX SBOM", got)
	}
	// The SBOM describes the image BuildKit built: its index.html.
	var sbom string
	for _, m := range idx.Manifests {
		if m.Annotations["vnd.docker.reference.type"] != "attestation-manifest" {
			continue
		}
		var man struct {
			Layers []struct {
				Digest      string
				Annotations map[string]string
			}
		}
		registryJSON(t, "/v2/app/manifests/"+m.Digest, &man)
		for _, l := range man.Layers {
			if l.Annotations["in-toto.io/predicate-type"] == "https://spdx.dev/Document" {
				resp := registryGet(t, "GET", "/v2/app/blobs/"+l.Digest, nil)
				var b bytes.Buffer
				b.ReadFrom(resp.Body)
				resp.Body.Close()
				sbom = b.String()
			}
		}
	}
	if !strings.Contains(sbom, `"fileName":"/index.html"`) {
		t.Errorf("the SBOM does not list the image's index.html:\n%s", sbom)
	}
	app.mustRun("build", "remove")
	assertNothingLeft(t, app, localBuilder)
}

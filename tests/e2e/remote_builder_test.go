package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A Kamal 2 remote builder on one of the rig's servers (ssh://root@server1):
// kamal checks the host over its own SSH, docker reaches it through an
// ssh:// docker context (OpenSSH, with the user's ~/.ssh/config), and
// buildx runs BuildKit there in a docker-container builder.
func TestKamal2RemoteBuilderOnServer1(t *testing.T) {
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	// local: false sends every arch to the remote builder.
	cfg = strings.Replace(cfg, "  arch: amd64\n  driver: docker\n", "  arch: amd64\n  local: false\n  remote: ssh://root@server1\n", 1)
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	version := app.Commit("remote builder")
	// How the user's docker reaches server1 (docker runs OpenSSH).
	// OpenSSH reads ~/.ssh/config from the passwd home, not $HOME: an ssh
	// first on kamal's PATH points it at the test's config instead.
	app.writeHomeFile(".ssh/config", fmt.Sprintf("Host server1 server2 server3\n  Port %s\n  IdentityFile %s\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n", rig.SSHPort, rig.SSHKey))
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	app.writeHomeFile("bin/ssh", "#!/bin/sh\nexec "+sshBin+" -F \"$HOME/.ssh/config\" \"$@\"\n")
	if err := os.Chmod(filepath.Join(app.Home, "bin/ssh"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Kamal 2 logs in nowhere for a remote builder: the user's docker is.
	app.writeHomeFile(".docker/config.json", dockerConfig(rig.User, rig.Password))
	path := []string{"PATH=" + filepath.Join(app.Home, "bin") + ":" + os.Getenv("PATH")}
	run := func(args ...string) (string, string, int) { return app.RunEnv(path, args...) }
	mustRun := func(args ...string) string {
		stdout, _, exit := run(args...)
		if exit != 0 {
			t.Fatalf("kamal %s exited %d (output logged above)", strings.Join(args, " "), exit)
		}
		return stdout
	}
	const name = "kamal-remote-ssh---root-server1"
	trackBuilders(t, app, name)

	stdout := mustRun("build", "create")
	assertContains(t, "stdout", stdout,
		"Running /usr/bin/env true on server1\n",
		"Running docker context create "+name+"-context --description '"+name+" host' --docker 'host=ssh://root@server1' ; docker buildx create --name "+name+" "+name+"-context on localhost\n")

	stdout = mustRun("build", "details")
	assertContains(t, "stdout", stdout, "Builder: remote\n", name+"-context")

	stdout, stderr, exit := run("build", "push")
	// The builder exists and points at server1: no re-creation.
	assertContains(t, "stdout", stdout, "Running docker buildx inspect "+name+" | grep -q Endpoint:.*"+name+"-context")
	assertNotContains(t, "stdout", stdout, "Missing compatible builder", "docker login")
	if exit != 0 {
		t.Fatalf("kamal build push exited %d\n%s\n%s", exit, stdout, stderr)
	}
	assertContains(t, "stdout", stdout, `Command: ( export BUILDKIT_NO_CLIENT_TOKEN="1" ; docker buildx build --output=type=registry --platform linux/amd64 --builder `+name)
	assertPushed(t, version)

	// The builder goes before its context: Kamal's order (context first)
	// fails and leaves the BuildKit container on server1's dockerd.
	stdout = mustRun("build", "remove")
	assertContains(t, "stdout", stdout, "Running docker buildx rm "+name+" ; docker context rm "+name+"-context on localhost\n")
	assertNothingLeft(t, app, name)
}

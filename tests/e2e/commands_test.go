package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kamal secrets, kamal registry: the done criteria of issue #10 against
// the rig's real registry, dockerd and sshd.

// onPath returns a PATH with kamal (this build, as "kamal") and the vendor
// CLI stand-ins (tests/standins) first.
func onPath(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	if err := os.Symlink(kamalBin, filepath.Join(bin, "kamal")); err != nil {
		t.Fatal(err)
	}
	return "PATH=" + bin + ":" + filepath.Join(repoRoot, "tests/standins") + ":" + os.Getenv("PATH")
}

// assertNoPasswordInArgs fails if the watcher saw the rig's registry
// password in any process's arguments, or saw no docker login at all (the
// watch would then prove nothing).
func assertNoPasswordInArgs(t *testing.T, seen []string) {
	t.Helper()
	logins := 0
	for _, args := range seen {
		if strings.Contains(args, rig.Password) {
			t.Errorf("a process ran with the registry password in its arguments: %q", args)
		}
		if strings.Contains(args, "docker login "+rig.Registry) && strings.Contains(args, "--password-stdin") {
			logins++
		}
	}
	if logins == 0 {
		t.Errorf("saw no docker login process while kamal ran (seen: %q)", seen)
	}
}

func TestKamal2SecretsFromOnePasswordDeliver(t *testing.T) {
	app := newApp(t, "app-kamal2")
	app.WriteFile(".kamal/secrets", `SECRETS=$(kamal secrets fetch --adapter 1password --account rig-account --from Rig/Registry password)
KAMAL_REGISTRY_PASSWORD=$(kamal secrets extract Registry $SECRETS)
`, 0o644)
	version := app.Commit("registry password from 1Password")
	items := filepath.Join(t.TempDir(), "items")
	if err := os.WriteFile(items, []byte("Rig/Registry/password\t"+rig.Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opLog := filepath.Join(t.TempDir(), "op.log")
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}") // logged out: the pull needs the fetched password
	}

	w := watchArgs(rig.Password, "docker login")
	stdout, _, exit := app.RunEnv([]string{onPath(t), "KAMAL_REGISTRY_PASSWORD=", "RIG_REGISTRY_PASSWORD=",
		"STANDIN_OP_ITEMS=" + items, "STANDIN_OP_ACCOUNT=rig-account", "STANDIN_OP_SESSION=tok-e2e",
		"OP_SESSION_standin=tok-e2e", "STANDIN_OP_LOG=" + opLog}, "build", "deliver")
	seen := w.Stop()

	if exit != 0 {
		t.Fatalf("kamal build deliver exited %d", exit)
	}
	assertNoPasswordInArgs(t, seen)
	assertNotContains(t, "stdout", stdout, rig.Password)
	assertContains(t, "stdout", stdout, "Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on localhost\n",
		"Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on server1\n")
	assertPushed(t, version)
	assertPulledOn(t, version, rig.Hosts...)
	assertContains(t, "op calls", readFile(t, opLog),
		"op account get --account rig-account\n",
		"op item get Registry --vault Rig --format json --account rig-account --fields label=password\n")
}

func TestKamal1RegistryLoginPushPullLogout(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	// A fresh machine: no docker credentials here nor on any server.
	app.writeHomeFile(".docker/config.json", "{}")
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}")
	}
	localConfig := filepath.Join(app.Home, ".docker/config.json")

	w := watchArgs(rig.Password, "docker login")
	stdout := app.mustRun("registry", "login")
	assertNoPasswordInArgs(t, w.Stop())
	assertContains(t, "stdout", stdout, "Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on localhost\n",
		"Running the pre-connect hook...\n")
	for _, h := range rig.Hosts {
		assertContains(t, "stdout", stdout, "Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on "+h+"\n")
		if cfg := readFile(t, serverFile(h, ".docker/config.json")); !strings.Contains(cfg, rig.Registry) {
			t.Errorf("after login, %s's docker config has no login for %s: %s", h, rig.Registry, cfg)
		}
	}
	if cfg := readFile(t, localConfig); !strings.Contains(cfg, rig.Registry) {
		t.Errorf("after login, the local docker config has no login for %s: %s", rig.Registry, cfg)
	}

	app.mustRun("build", "push")
	assertPushed(t, version)
	app.mustRun("build", "pull")
	assertPulledOn(t, version, rig.Hosts...)

	stdout = app.mustRun("registry", "logout")
	for _, h := range append([]string{"localhost"}, rig.Hosts...) {
		assertContains(t, "stdout", stdout, "Running docker logout "+rig.Registry+" on "+h+"\n")
	}
	for _, h := range rig.Hosts {
		if cfg := readFile(t, serverFile(h, ".docker/config.json")); strings.Contains(cfg, rig.Registry) {
			t.Errorf("after logout, %s's docker config still has %s: %s", h, rig.Registry, cfg)
		}
	}
	if cfg := readFile(t, localConfig); strings.Contains(cfg, rig.Registry) {
		t.Errorf("after logout, the local docker config still has %s: %s", rig.Registry, cfg)
	}
	assertNoLock(t)
}

func TestRegistryLoginSkipsEachSide(t *testing.T) {
	app := newApp(t, "app")
	app.writeHomeFile(".docker/config.json", "{}")
	for _, h := range rig.Hosts {
		withDockerConfig(t, h, "{}")
	}
	stdout := app.mustRun("registry", "login", "-R")
	assertNotContains(t, "stdout", stdout, " on server1\n", "pre-connect")
	if cfg := readFile(t, serverFile("server1", ".docker/config.json")); strings.Contains(cfg, rig.Registry) {
		t.Errorf("-R logged server1 in: %s", cfg)
	}
	stdout = app.mustRun("registry", "login", "--skip-local", "-h", "server2")
	assertNotContains(t, "stdout", stdout, "-p [REDACTED] on localhost\n", " on server1\n", " on server3\n")
	if cfg := readFile(t, serverFile("server2", ".docker/config.json")); !strings.Contains(cfg, rig.Registry) {
		t.Errorf("-L -h server2 did not log server2 in: %s", cfg)
	}

	// A wrong password: docker's refusal, one error line, exit 1.
	stdout, stderr, exit := app.RunEnv([]string{"KAMAL_REGISTRY_PASSWORD=wrong-Password-7"}, "registry", "login", "-R")
	assertFailed(t, stdout, stderr, exit, "SSHKit::Command::Failed", "401 Unauthorized")
	assertNotContains(t, "output", stdout+stderr, "wrong-Password-7")
}

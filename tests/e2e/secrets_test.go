package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func randomSecret(prefix string) string {
	var b [12]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// Registry password, build secrets, every .kamal/secrets value and ssh
// key_data never reach a log line, an error, a dry run, a trace or the
// arguments of a local process: the pre-connect hook (which Kamal 2 gives
// every secret) prints them all and fails, builds use them, and a docker
// wrapper first on the PATH records the arguments of every docker process.
// TestMain then checks every byte the suite printed for them.
func TestSecretsAreNeverPrinted(t *testing.T) {
	app := newApp(t, "app-kamal2")
	token, unused := randomSecret("tok-"), randomSecret("unused-")
	key := readFile(t, rig.SSHKey)
	for _, s := range []string{token, unused, rig.Password} {
		useSecret(s)
	}
	for _, line := range strings.Split(key, "\n") {
		if len(line) > 20 && !strings.HasPrefix(line, "-----") {
			useSecret(line)
		}
	}
	app.WriteFile(".kamal/secrets", "KAMAL_REGISTRY_PASSWORD=$RIG_REGISTRY_PASSWORD\nBUILD_TOKEN="+token+"\nUNUSED="+unused+
		"\nSSH_KEY=\""+key+"\"\n", 0o600)
	editConfig(app, "  driver: docker\n", "  driver: docker\n  secrets:\n    - BUILD_TOKEN\n", "ssh:\n", "ssh:\n  key_data:\n    - SSH_KEY\n")
	app.WriteFile("Dockerfile", "FROM scratch\nCOPY index.html /index.html\n", 0o644)
	version := app.Commit("secrets")

	bin := filepath.Join(app.Tmp, "bin")
	argsLog := filepath.Join(app.Tmp, "docker-args.log")
	realDocker, err := exec.LookPath("docker")
	if err != nil {
		t.Fatal(err)
	}
	app.WriteFile("../tmp/bin/docker", "#!/bin/sh\nprintf '%s\\n' \"$*\" >> "+argsLog+"\nexec "+realDocker+" \"$@\"\n", 0o755)
	env := []string{"PATH=" + bin + ":" + os.Getenv("PATH")}

	app.mustRun("build", "pull", "-v", "--dry-run")
	stdout, stderr, exit := app.RunEnv(env, "build", "push", "-v", "--trace")
	if exit != 0 {
		t.Fatalf("push exited %d", exit)
	}
	assertPushed(t, version)
	stdout2, _, _ := app.RunEnv(env, "build", "pull", "-v")
	if !strings.Contains(stdout+stderr+stdout2, "[REDACTED]") {
		t.Errorf("nothing was redacted: the test shows nothing")
	}

	// A failing hook that prints every secret it was given.
	app.WriteFile(".kamal/hooks/pre-connect", "#!/bin/sh\necho \"token=$BUILD_TOKEN unused=$UNUSED password=$KAMAL_REGISTRY_PASSWORD\"\necho \"$SSH_KEY\"\nexit 1\n", 0o755)
	app.Commit("a hook that leaks")
	stdout, stderr, exit = app.RunEnv(env, "build", "push", "-v")
	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::HookError", "token=[REDACTED] unused=[REDACTED] password=[REDACTED]")

	if b, err := os.ReadFile(argsLog); err != nil {
		t.Errorf("the docker wrapper never ran: %v", err)
	} else {
		for _, s := range []string{token, unused, rig.Password} {
			if strings.Contains(string(b), s) {
				t.Errorf("a docker process had secret %q in its arguments:\n%s", s, b)
			}
		}
	}
}

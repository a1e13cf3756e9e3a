package e2e

import "testing"

func TestKamal2PushWithAWrongRegistryPasswordFailsAtLoginAndPushesNothing(t *testing.T) {
	app := newApp(t, "app-kamal2")
	version := app.Version()
	const wrong = "wrong-Password-7"

	// .kamal/secrets reads the password from RIG_REGISTRY_PASSWORD; the
	// process variable is set too in case it takes precedence.
	stdout, stderr, exit := app.RunEnv([]string{"RIG_REGISTRY_PASSWORD=" + wrong, "KAMAL_REGISTRY_PASSWORD=" + wrong}, "build", "push")

	assertFailed(t, stdout, stderr, exit, "SSHKit::Command::Failed", "401 Unauthorized")
	assertContains(t, "stdout", stdout, "Running docker login "+rig.Registry+" -u [REDACTED] -p [REDACTED] on localhost\n")
	assertNotContains(t, "output", stdout+stderr, wrong)
	assertNotContains(t, "stdout", stdout, "docker buildx build")
	assertNotPushed(t, version)
}

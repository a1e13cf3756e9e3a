package e2e

import (
	"strings"
	"testing"
)

// A pre-connect hook echoes four secrets whose values are ordinary text
// ("secret", "production", a host of the config) or a long token: only the
// token is scrubbed, and the host, the build's --secret option and the
// hook's other words print as they are.
func TestHookEchoScrubsOnlyUnmistakableSecrets(t *testing.T) {
	app := newApp(t, "app-kamal2")
	addr := rig.Env["RIG_SERVER_ADDR_server1"]
	if addr == "" {
		t.Skip("the rig's env file has no RIG_SERVER_ADDR_server1")
	}
	token := randomSecret("tok-")
	useSecret(token)
	app.WriteFile(".kamal/secrets", "KAMAL_REGISTRY_PASSWORD=$RIG_REGISTRY_PASSWORD\nSHORT=secret\nSTAGE=production\nHOST="+addr+"\nTOKEN="+token+"\n", 0o600)
	editConfig(app, "  - server1\n  - server2\n  - server3\n", "  - "+addr+"\n",
		"  driver: docker\n", "  driver: docker\n  secrets:\n    - SHORT\n")
	app.WriteFile(".kamal/hooks/pre-connect", "#!/bin/sh\necho \"short=$SHORT stage=$STAGE host=$HOST token=$TOKEN\"\n", 0o755)
	app.WriteFile("Dockerfile", "FROM scratch\nCOPY index.html /index.html\n", 0o644)
	version := app.Commit("secrets that read like text")

	stdout, stderr, exit := app.Run("build", "deliver", "-v")
	if exit != 0 {
		t.Fatalf("deliver exited %d\n%s\n%s", exit, stdout, stderr)
	}
	assertPushed(t, version)
	for _, want := range []string{
		"\tshort=secret stage=production host=" + addr + " token=[REDACTED]",
		`--secret id="SHORT"`,
		"on " + addr,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	for _, bad := range []string{token, "on [REDACTED]", "--[REDACTED]"} {
		if strings.Contains(stdout+stderr, bad) {
			t.Errorf("output has %q:\n%s", bad, stdout)
		}
	}
}

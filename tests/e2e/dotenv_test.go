package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Kamal 1 loads .env into its process environment at start, so a hook
// sees its variables, and the variables of the real environment win.
// kamal-go hands them to the commands it runs instead of setting its own
// environment.
func TestKamal1DotEnvReachesTheHooks(t *testing.T) {
	app := newApp(t, "app")
	app.WriteFile(".env", "DOTENV_PROOF=from-dotenv\nDOTENV_REAL_WINS=from-dotenv\n", 0o600)
	app.WriteFile(".kamal/hooks/pre-build", "#!/bin/sh\necho \"$DOTENV_PROOF $DOTENV_REAL_WINS\" > \"$KAMAL_GO_PROOF_FILE\"\nexit 1\n", 0o755)
	version := app.Commit("a .env and a pre-build hook that shows what it sees")
	proof := filepath.Join(t.TempDir(), "proof")

	stdout, stderr, exit := app.RunEnv([]string{"KAMAL_GO_PROOF_FILE=" + proof, "DOTENV_REAL_WINS=real"}, "build", "push")

	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::HookError", "Hook `pre-build` failed:")
	got, err := os.ReadFile(proof)
	if err != nil {
		t.Fatalf("the hook left no proof: %v", err)
	}
	if s := strings.TrimSpace(string(got)); s != "from-dotenv real" {
		t.Errorf("the hook saw %q, want .env's DOTENV_PROOF and the real DOTENV_REAL_WINS", s)
	}
	assertNotPushed(t, version)
	assertNoLock(t)
}

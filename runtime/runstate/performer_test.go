package runstate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The performer (git's user.email, else whoami) is worked out once per run,
// however many hooks and audit lines ask for it.
func TestPerformerIsWorkedOutOnce(t *testing.T) {
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	for name, out := range map[string]string{"git": "", "whoami": "deployer"} {
		script := "#!/bin/sh\necho " + name + " >>" + calls + "\n"
		if out != "" {
			script += "echo " + out + "\n"
		} else {
			script += "exit 1\n"
		}
		if err := os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin)
	e := &State{Dir: t.TempDir()}
	for range 3 {
		if got := e.Performer(context.Background()); got != "deployer" {
			t.Fatalf("performer %q, want deployer", got)
		}
	}
	data, _ := os.ReadFile(calls)
	if got := strings.Fields(string(data)); len(got) != 2 {
		t.Errorf("ran %v, want git and whoami once each", got)
	}
}

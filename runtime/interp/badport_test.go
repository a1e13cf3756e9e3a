package interp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// An ssh port that is no number loads (Kamal validates it as a string)
// and fails on connecting, as Net::SSH does; a dry run connects nowhere.
func TestSSHPortThatIsNoNumberFailsOnConnecting(t *testing.T) {
	dir := app(t, "kamal2")
	path := filepath.Join(dir, "config/deploy.yml")
	cfg, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(cfg, "ssh:\n  port: x-SSH_PORT\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	env, err := runstate.New(runstate.Options{Dir: dir, Log: log.New(&out, false), Local: newWorld(),
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Command: "build", Subcommand: "details"}})
	if err != nil {
		t.Fatalf("runstate.New: %v", err)
	}
	_, err = env.Runner.Remote.Run(context.Background(), "server1", executor.Request{Script: "true"})
	if err == nil || sshkit.ClassOf(err) != "SocketError" || !strings.Contains(err.Error(), `"x-SSH_PORT"`) {
		t.Fatalf("connecting: %v (class %s), want SocketError naming the port", err, sshkit.ClassOf(err))
	}
}

package commands

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// assertCommand compares the Running-line form and the executed form.
func assertCommand(t *testing.T, cmd *shell.Command, logged, executed string) {
	t.Helper()
	if got := cmd.Logged(); got != logged {
		t.Errorf("Logged():\n got  %s\n want %s", got, logged)
	}
	if got := cmd.Executed(); got != executed {
		t.Errorf("Executed():\n got  %s\n want %s", got, executed)
	}
}

// assertEmpty checks a command has nothing to run.
func assertEmpty(t *testing.T, cmd *shell.Command) {
	t.Helper()
	if !cmd.Empty() {
		t.Errorf("want an empty command, got %q", cmd.Executed())
	}
}

// appDir is an app root holding the given (empty) files.
func appDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustBuilder(t *testing.T, cfg *config.Config, localArch string) Builder {
	t.Helper()
	b, err := NewBuilder(cfg, localArch)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustPush(t *testing.T, b Builder, o PushOptions) *shell.Command {
	t.Helper()
	cmd, err := b.Push(o)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	return cmd
}

func assertClassError(t *testing.T, err error, class, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if e.Class != class || e.Message != msg {
		t.Errorf("got (%s) %q, want (%s) %q", e.Class, e.Message, class, msg)
	}
}

func ptr[T any](v T) *T { return &v }

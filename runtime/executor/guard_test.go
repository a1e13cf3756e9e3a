package executor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestLocalRefusesWhileTheGuardIsHeld: a command asked for under a held
// guard is not started; once the guard is let go it runs.
func TestLocalRefusesWhileTheGuardIsHeld(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	g := &Guard{}
	ctx := WithGuard(context.Background(), g)
	req := Request{Script: "touch " + marker}

	g.Set(true)
	if _, err := (&Local{}).Run(ctx, "", req); !errors.Is(err, ErrLockHeld) {
		t.Fatalf("held guard: error %v, want ErrLockHeld", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("held guard: the command ran")
	}

	g.Set(false)
	if status, err := (&Local{}).Run(ctx, "", req); err != nil || status != 0 {
		t.Fatalf("released guard: status %d, error %v", status, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("released guard: the command did not run: %v", err)
	}
}

// TestSSHRefusesWhileTheGuardIsHeld: neither a command nor a forward is
// attempted (nothing is dialled, so no server is needed) under a held guard.
func TestSSHRefusesWhileTheGuardIsHeld(t *testing.T) {
	g := &Guard{}
	g.Set(true)
	ctx := WithGuard(context.Background(), g)
	s := NewSSH(SSHConfig{})
	defer s.Close()
	if _, err := s.Run(ctx, "127.0.0.1", Request{Script: "true"}); !errors.Is(err, ErrLockHeld) {
		t.Errorf("Run: error %v, want ErrLockHeld", err)
	}
	if _, err := s.Forward(ctx, "127.0.0.1", "127.0.0.1:5000", "localhost:5000"); !errors.Is(err, ErrLockHeld) {
		t.Errorf("Forward: error %v, want ErrLockHeld", err)
	}
}

// TestAGuardOnAContextHidesItsParents: a thread's own guard decides,
// not the guard of the thread that started it.
func TestAGuardOnAContextHidesItsParents(t *testing.T) {
	parent, child := &Guard{}, &Guard{}
	parent.Set(true)
	ctx := WithGuard(WithGuard(context.Background(), parent), child)
	if err := Refuse(ctx, "x"); err != nil {
		t.Fatalf("child guard free, parent held: %v", err)
	}
	if err := Refuse(context.Background(), "x"); err != nil {
		t.Fatalf("no guard: %v", err)
	}
}

package lock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kamal-go/kamal/internal/testenv"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// server is the primary host: its commands run for real in a shell, in
// dir (the host's home). before, when set, runs before each command and
// may replace it: it returns done=true with the result to give instead.
type server struct {
	dir    string
	local  executor.Local
	before func(ctx context.Context, req executor.Request) (done bool, status int, err error)
}

func (s *server) Run(ctx context.Context, _ string, req executor.Request) (int, error) {
	if s.before != nil {
		if done, status, err := s.before(ctx, req); done {
			return status, err
		}
	}
	req.Dir = s.dir
	return s.local.Run(ctx, "", req)
}

func (s *server) locked() bool {
	_, err := os.Stat(filepath.Join(s.dir, ".kamal/lock-app"))
	return err == nil
}

// syncBuffer is the output of a run read while it runs.
type syncBuffer = testenv.SyncBuffer

func newServer(t *testing.T) *server {
	s := &server{dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(s.dir, ".kamal"), 0o755); err != nil {
		t.Fatal(err)
	}
	return s
}

// run is one kamal run's lock on s, by user, logging into the returned
// buffer.
func run(t *testing.T, s *server, user string) (*Lock, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	deploy := "service: app\nimage: app\nservers:\n  - server1\nregistry:\n  server: localhost:5000\nbuilder:\n  arch: amd64\n"
	if err := os.WriteFile(filepath.Join(dir, "config/deploy.yml"), []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	logger := log.New(out, false)
	return &Lock{
		Config: cfg, Host: "server1", Log: logger, Version: "abc123",
		Runner:   &sshkit.Runner{Log: logger, Local: &executor.Local{}, Remote: s},
		LockedBy: func(context.Context) string { return user },
	}, out
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l+"\n") {
			t.Errorf("output lacks the line %q:\n%s", l, out)
		}
	}
}

func TestAcquireTakesTheLockAndReleaseGivesItBack(t *testing.T) {
	s := newServer(t)
	l, out := run(t, s, "Ann")
	ctx := context.Background()
	if err := l.Acquire(ctx, "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	if !l.Held() || !s.locked() {
		t.Fatalf("after Acquire: held %v, lock directory there %v; want both", l.Held(), s.locked())
	}
	status, err := l.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(status, "Locked by: Ann at ") || !strings.HasSuffix(status, "\nVersion: abc123\nMessage: Automatic deploy lock") {
		t.Errorf("status = %q", status)
	}
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if l.Held() || s.locked() {
		t.Errorf("after Release: held %v, lock directory there %v; want neither", l.Held(), s.locked())
	}
	wantLines(t, out.String(), "Acquiring the deploy lock...", "Releasing the deploy lock...")
	if _, err := l.Status(ctx); !Missing(err) {
		t.Errorf("Status without a lock: %v, want a missing lock", err)
	}
}

func TestTakeWhenHeldPrintsWhoAndFails(t *testing.T) {
	s := newServer(t)
	first, _ := run(t, s, "Ann")
	if err := first.Take(context.Background(), "hands off"); err != nil {
		t.Fatal(err)
	}
	second, out := run(t, s, "Bob")
	err := second.Take(context.Background(), "mine")
	if kamalerr.ClassOf(err) != "Kamal::Cli::LockError" || err.Error() != "Deploy lock found. Run 'kamal lock help' for more information" {
		t.Fatalf("Take of a held lock: %v (%s)", err, kamalerr.ClassOf(err))
	}
	if second.Held() {
		t.Error("the second run thinks it holds the lock")
	}
	wantLines(t, out.String(), "Deploy lock already in place!", "Message: hands off")
	if strings.Contains(out.String(), "Acquiring") {
		t.Errorf("Take printed Acquire's line:\n%s", out)
	}
}

// cancelAfter makes the first command, if it contains word, run and then
// report an interrupt, as if SIGINT came just as it finished; with
// skip it is interrupted before it runs.
func cancelAfter(s *server, word string, skip bool) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	s.before = func(c context.Context, req executor.Request) (bool, int, error) {
		hit := false
		once.Do(func() { hit = strings.Contains(req.Script, word) })
		if !hit {
			return false, 0, nil
		}
		if !skip {
			r := req
			r.Dir = s.dir
			s.local.Run(c, "", r)
		}
		cancel()
		return true, -1, context.Canceled
	}
	return ctx, cancel
}

func TestAnInterruptedMkdirReleasesTheLockItMade(t *testing.T) {
	s := newServer(t)
	l, out := run(t, s, "Ann")
	ctx, cancel := cancelAfter(s, "mkdir .kamal/lock-app", false)
	defer cancel()
	err := l.Acquire(ctx, "Automatic deploy lock")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire: %v, want the interrupt", err)
	}
	if l.Held() || s.locked() {
		t.Errorf("held %v, lock directory there %v; want neither", l.Held(), s.locked())
	}
	wantLines(t, out.String(), "Releasing the deploy lock...")
}

func TestAnInterruptedMkdirLeavesAnotherRunsLock(t *testing.T) {
	s := newServer(t)
	other, _ := run(t, s, "Ann")
	if err := other.Take(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	l, out := run(t, s, "Bob")
	ctx, cancel := cancelAfter(s, "mkdir .kamal/lock-app", true)
	defer cancel()
	if err := l.Acquire(ctx, "Automatic deploy lock"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire: %v, want the interrupt", err)
	}
	if !s.locked() {
		t.Error("the other run's lock was removed")
	}
	if strings.Contains(out.String(), "Releasing") {
		t.Errorf("released a lock that is not this run's:\n%s", out)
	}
}

func TestReleaseAfterAFailureReleasesDespiteTheInterrupt(t *testing.T) {
	s := newServer(t)
	l, out := run(t, s, "Ann")
	ctx, cancel := context.WithCancel(context.Background())
	if err := l.Acquire(ctx, "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	cancel()
	failed := errors.New("the build failed")
	if err := l.ReleaseAfter(ctx, failed); err != failed {
		t.Errorf("ReleaseAfter = %v, want the work's failure", err)
	}
	if l.Held() || s.locked() {
		t.Errorf("held %v, lock directory there %v; want neither", l.Held(), s.locked())
	}
	wantLines(t, out.String(), "Releasing the deploy lock...")
}

func TestReleaseAfterAFailureReportsAFailedRelease(t *testing.T) {
	s := newServer(t)
	l, out := run(t, s, "Ann")
	if err := l.Acquire(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(s.dir, ".kamal/lock-app"))
	failed := errors.New("the build failed")
	if err := l.ReleaseAfter(context.Background(), failed); err != failed {
		t.Errorf("ReleaseAfter = %v, want the work's failure", err)
	}
	if !strings.Contains(out.String(), "Error releasing the deploy lock: ") {
		t.Errorf("the failed release is not reported:\n%s", out)
	}
}

func TestReleaseAfterSuccessReturnsTheReleaseError(t *testing.T) {
	s := newServer(t)
	l, _ := run(t, s, "Ann")
	if err := l.Acquire(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(s.dir, ".kamal/lock-app"))
	if err := l.ReleaseAfter(context.Background(), nil); !Missing(err) {
		t.Errorf("ReleaseAfter = %v, want the missing lock", err)
	}
}

func TestInheritedLockIsHeldWithoutAnyCommand(t *testing.T) {
	s := newServer(t)
	s.before = func(context.Context, executor.Request) (bool, int, error) {
		t.Error("a command ran")
		return true, 0, nil
	}
	l, _ := run(t, s, "Ann")
	l.Inherit()
	if !l.Held() {
		t.Error("an inherited lock is not held")
	}
}

func TestWaitRefusesToWaitForAManualLock(t *testing.T) {
	s := newServer(t)
	manual, _ := run(t, s, "Ann")
	if err := manual.Take(context.Background(), "fixing the database"); err != nil {
		t.Fatal(err)
	}
	l, out := run(t, s, "Bob")
	l.Wait = Wait{On: true, Timeout: 60, Interval: 10}
	err := l.Acquire(context.Background(), "Automatic deploy lock")
	if kamalerr.ClassOf(err) != "Kamal::Cli::LockError" || !strings.HasPrefix(err.Error(), "Deploy lock held manually, not waiting.") {
		t.Fatalf("Acquire: %v", err)
	}
	wantLines(t, out.String(), "Acquiring the deploy lock (waiting up to 60s)...", "Deploy lock is held by:", "Message: fixing the database")
}

func TestWaitTakesTheLockOnceReleased(t *testing.T) {
	s := newServer(t)
	other, _ := run(t, s, "Ann")
	if err := other.Take(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	l, out := run(t, s, "Bob")
	l.Wait = Wait{On: true, Timeout: 60, Interval: 0.05}
	go func() {
		for !strings.Contains(out.String(), "Retrying in 0.05s") {
			time.Sleep(10 * time.Millisecond)
		}
		other.Remove(context.Background())
	}()
	if err := l.Acquire(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	if !l.Held() {
		t.Error("the lock is not held after the wait")
	}
	if n := strings.Count(out.String(), "Deploy lock is held by:"); n != 1 {
		t.Errorf("the holder was shown %d times, want once:\n%s", n, out)
	}
}

func TestWaitTimesOut(t *testing.T) {
	s := newServer(t)
	other, _ := run(t, s, "Ann")
	if err := other.Take(context.Background(), "Automatic deploy lock"); err != nil {
		t.Fatal(err)
	}
	l, out := run(t, s, "Bob")
	l.Wait = Wait{On: true, Timeout: 0.2, Interval: 0.05}
	err := l.Acquire(context.Background(), "Automatic deploy lock")
	if kamalerr.ClassOf(err) != "Kamal::Cli::LockError" || err.Error() != "Timed out waiting for deploy lock" {
		t.Fatalf("Acquire: %v", err)
	}
	wantLines(t, out.String(), "Timed out after 0.2s waiting for the deploy lock")
}

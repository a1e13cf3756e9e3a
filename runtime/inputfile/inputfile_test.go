package inputfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func wantErr(t *testing.T, err error, class, msg string) {
	t.Helper()
	var ke *kamalerr.Error
	if !errors.As(err, &ke) {
		t.Fatalf("err = %v (%T), want %s: %s", err, err, class, msg)
	}
	if ke.Class != class || ke.Message != msg {
		t.Fatalf("err = %s: %s\nwant %s: %s", ke.Class, ke.Message, class, msg)
	}
}

func TestReadFileReadsARegularFileThroughASymlink(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "deploy.yml")
	os.WriteFile(p, []byte("service: app\n"), 0o644)
	link := filepath.Join(dir, "link.yml")
	os.Symlink(p, link)
	b, err := ReadFile(link, "link.yml")
	if err != nil || string(b) != "service: app\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
}

func TestReadFileMissingIsNotExist(t *testing.T) {
	_, err := ReadFile(filepath.Join(t.TempDir(), "nope"), "nope")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestReadFileRefusesADeviceAtOnce(t *testing.T) {
	link := filepath.Join(t.TempDir(), "deploy.yml")
	os.Symlink("/dev/zero", link)
	_, err := ReadFile(link, "config/deploy.yml")
	wantErr(t, err, "RuntimeError", "config/deploy.yml is not a regular file (a character device): kamal-go reads configuration, secrets and scripts only from regular files")
}

func TestReadFileRefusesANamedPipeWithoutWaitingForAWriter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secrets")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(p, ".kamal/secrets"); done <- err }()
	select {
	case err := <-done:
		wantErr(t, err, "RuntimeError", ".kamal/secrets is not a regular file (a named pipe): kamal-go reads configuration, secrets and scripts only from regular files")
	case <-time.After(5 * time.Second):
		t.Fatal("ReadFile waited on a FIFO")
	}
}

func TestReadFileRefusesAFileOverTheCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yml")
	f, _ := os.Create(p)
	f.Truncate(MaxSize + 1) // sparse: costs no disk
	f.Close()
	_, err := ReadFile(p, "config/deploy.yml")
	wantErr(t, err, "RuntimeError", "config/deploy.yml is larger than 16 MiB, the most kamal-go reads from a configuration, secrets or script file")

	os.Truncate(p, MaxSize)
	if b, err := ReadFile(p, "config/deploy.yml"); err != nil || len(b) != MaxSize {
		t.Fatalf("a file of exactly MaxSize: %d bytes, %v", len(b), err)
	}
}

func TestReadFileDirectoryIsRubysEISDIR(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadFile(dir, "/app/config/deploy.yml")
	wantErr(t, err, "Errno::EISDIR", "Is a directory @ io_fread - /app/config/deploy.yml")
}

// Ruby: File.read of an unreadable file raises
// Errno::EACCES "Permission denied @ rb_sysopen - PATH" (checked with
// Debian's ruby 3.1 as an unprivileged user). Root reads any file, so the
// errno is injected here; cmd/kamal's hostile_input scenario meets the
// real one as an unprivileged user.
func TestErrnoIsWordedAsRuby(t *testing.T) {
	err := rubyErrno(&fs.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, "rb_sysopen", ".kamal/secrets")
	wantErr(t, err, "Errno::EACCES", "Permission denied @ rb_sysopen - .kamal/secrets")
	if !strings.Contains(rubyErrno(&fs.PathError{Err: syscall.EXDEV}, "rb_sysopen", "x").Error(), "errno 18") {
		t.Error("an unnamed errno does not say its number")
	}
}

package executor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runLocal(t *testing.T, l *Local, req Request) (int, string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if req.Stdout == nil {
		req.Stdout = &out
	}
	if req.Stderr == nil {
		req.Stderr = &errOut
	}
	status, err := l.Run(testCtx(t), "", req)
	return status, out.String(), errOut.String(), err
}

func TestLocalExitStatus(t *testing.T) {
	for script, want := range map[string]int{"true": 0, "false": 1, "exit 7": 7, "exit 255": 255, "kill -TERM $$": 143} {
		status, _, _, err := runLocal(t, &Local{}, Request{Script: script})
		if err != nil || status != want {
			t.Errorf("%q: status %d err %v, want %d", script, status, err, want)
		}
	}
}

func TestLocalEnvAndDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("KAMAL_EXECUTOR_INHERITED", "parent")
	status, out, _, err := runLocal(t, &Local{}, Request{
		Script: `echo "$KAMAL_EXECUTOR_INHERITED $KAMAL_EXECUTOR_EXTRA $HOME"; pwd -P`,
		Env:    []string{"KAMAL_EXECUTOR_EXTRA=extra", "HOME=/nowhere"},
		Dir:    dir,
	})
	real, _ := filepath.EvalSymlinks(dir)
	if want := "parent extra /nowhere\n" + real + "\n"; err != nil || status != 0 || out != want {
		t.Fatalf("status %d, err %v, out %q, want %q", status, err, out, want)
	}
}

func TestLocalStreamsSeparatedAndOrdered(t *testing.T) {
	status, out, errOut, err := runLocal(t, &Local{}, Request{
		Script: `i=0; while [ $i -lt 2000 ]; do echo "o$i"; echo "e$i" >&2; i=$((i+1)); done`,
	})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	var wantOut, wantErr strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&wantOut, "o%d\n", i)
		fmt.Fprintf(&wantErr, "e%d\n", i)
	}
	if out != wantOut.String() || errOut != wantErr.String() {
		t.Error("stdout or stderr out of order or mixed")
	}
}

func TestLocalSameWriterForBothStreams(t *testing.T) {
	var both bytes.Buffer // not safe for concurrent use: the race detector checks serialization
	status, _, _, err := runLocal(t, &Local{}, Request{Script: "echo a; echo b >&2; echo c", Stdout: &both, Stderr: &both})
	if err != nil || status != 0 || both.String() != "a\nb\nc\n" {
		t.Fatalf("status %d, err %v, out %q", status, err, both.String())
	}
}

func TestLocalStdin(t *testing.T) {
	status, out, _, err := runLocal(t, &Local{}, Request{Script: "tr a-z A-Z", Stdin: strings.NewReader("hello\n")})
	if err != nil || status != 0 || out != "HELLO\n" {
		t.Fatalf("status %d, out %q, err %v", status, out, err)
	}
}

func TestLocalRejectsHost(t *testing.T) {
	if _, err := (&Local{}).Run(testCtx(t), "server1", Request{Script: "true"}); err == nil {
		t.Fatal("no error for a host")
	}
}

func TestLocalOutputStreamsBeforeExit(t *testing.T) {
	seen := make(chan struct{})
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() { <-seen; cancel() }()
	_, err := (&Local{}).Run(ctx, "", Request{Script: "echo first; sleep 30", Stdout: &notifyWriter{want: "first", seen: seen}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want cancellation after the first line arrived", err)
	}
}

// gone reports whether pid no longer runs (absent or a zombie).
func gone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}

// startAndCancel runs script, which must print a child's pid first, then
// cancels and returns the pid and Run's error.
func startAndCancel(t *testing.T, l *Local, script string) (int, error) {
	t.Helper()
	pidLine := make(chan struct{})
	w := &notifyWriter{want: "\n", seen: pidLine}
	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan error, 1)
	go func() {
		_, err := l.Run(ctx, "", Request{Script: script, Stdout: w})
		done <- err
	}()
	<-pidLine
	cancel()
	err := <-done
	pid, perr := strconv.Atoi(strings.TrimSpace(w.buf.String()))
	if perr != nil {
		t.Fatalf("output %q: %v", w.buf.String(), perr)
	}
	return pid, err
}

func TestLocalCancelKillsProcessGroup(t *testing.T) {
	pid, err := startAndCancel(t, &Local{}, "sleep 30 & echo $!; wait")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want one wrapping context.Canceled", err)
	}
	if !gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("child sleep %d survived the cancellation", pid)
	}
}

func TestLocalCancelEscalatesToSIGKILL(t *testing.T) {
	// The child ignores SIGTERM (ignored signals survive exec).
	pid, err := startAndCancel(t, &Local{Grace: 100 * time.Millisecond}, "trap '' TERM; sleep 30 & echo $!; wait")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if !gone(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("child sleep %d ignoring SIGTERM survived the cancellation", pid)
	}
}

func TestLocalCancelledBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := t.TempDir()
	_, err := (&Local{}).Run(ctx, "", Request{Script: "touch ran", Dir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Error("command ran although the context was already cancelled")
	}
}

func TestLocalLargeOutputStreams(t *testing.T) {
	const size = 50 << 20
	w := &countingWriter{sampleEvery: 4 << 20}
	w.start()
	status, err := (&Local{}).Run(testCtx(t), "", Request{Script: fmt.Sprintf("head -c %d /dev/zero", size), Stdout: w})
	if err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if w.n != size {
		t.Fatalf("got %d bytes, want %d", w.n, size)
	}
	if growth := w.peak - w.base; growth > 8<<20 {
		t.Errorf("heap grew by %d MB while streaming %d MB", growth>>20, size>>20)
	}
}

func TestLocalWriterErrorIsReported(t *testing.T) {
	status, err := (&Local{}).Run(testCtx(t), "", Request{Script: "head -c 1000000 /dev/zero; exit 4", Stdout: failingWriter{}})
	if status != 4 || err == nil || !strings.Contains(err.Error(), "writing command output: disk full") {
		t.Fatalf("status %d, err %v", status, err)
	}
}

// BenchmarkLocalBulkOutput is a local command writing 200 MB to its
// stdout, read by the caller through a pipe as ssh.serve reads `docker
// image save`: what the output streams cost beyond the command.
//
//	go test -run '^$' -bench LocalBulkOutput -count 5 ./runtime/executor
func BenchmarkLocalBulkOutput(b *testing.B) {
	const size = 200 << 20
	l := &Local{}
	b.SetBytes(size)
	for range b.N {
		pr, pw := io.Pipe()
		done := make(chan int64)
		go func() {
			n, _ := io.Copy(io.Discard, pr)
			done <- n
		}()
		status, err := l.Run(context.Background(), "", Request{Script: fmt.Sprintf("head -c %d /dev/zero", size), Stdout: pw, Stderr: io.Discard})
		pw.Close()
		if n := <-done; err != nil || status != 0 || n != size {
			b.Fatalf("status %d, %v, read %d bytes", status, err, n)
		}
	}
}

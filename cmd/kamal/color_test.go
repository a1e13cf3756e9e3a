package main

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// onTerminal runs kamal with its standard output on a pseudo-terminal and
// returns what it printed there.
func (a *replApp) onTerminal(t *testing.T, extraEnv []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard only
	defer cancel()
	c := exec.CommandContext(ctx, kamalBinary(t), args...)
	c.Dir, c.Env = a.dir, append(a.env(), extraEnv...)
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 40, Cols: 300})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var out bytes.Buffer
	io.Copy(&out, tty) // ends with EIO once the process has exited
	if err := c.Wait(); err != nil {
		t.Fatalf("kamal %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// Colour follows SSHKit and Thor: on a terminal only, and never when
// NO_COLOR is set.
func TestColourOnlyOnATerminalWithoutNoColor(t *testing.T) {
	a := newReplApp(t)
	args := []string{"build", "pull", "--dry-run", "-H"}
	const coloredInfo = "\x1b[0;34;49m  INFO\x1b[0m"

	if out := a.onTerminal(t, nil, args...); !strings.Contains(out, coloredInfo) || !strings.Contains(out, "\x1b[35mAcquiring the deploy lock...\x1b[0m") {
		t.Errorf("on a terminal the log should be coloured:\n%q", out)
	}
	if out := a.onTerminal(t, []string{"NO_COLOR=1"}, args...); strings.Contains(out, "\x1b[") {
		t.Errorf("NO_COLOR=1 on a terminal should print no colour:\n%q", out)
	}
	stdout, _, code := a.pipe(t, "", args...)
	if code != 0 || strings.Contains(stdout, "\x1b[") || !strings.Contains(stdout, "  INFO [") {
		t.Errorf("through a pipe (exit %d) the log should be plain:\n%q", code, stdout)
	}
}

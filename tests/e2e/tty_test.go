package e2e

// Driving kamal through a pseudo-terminal, as a user at a prompt would
// (the REPL, the debugger).

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// ansiSeqRe matches the terminal escape sequences screen() removes.
var ansiSeqRe = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// ttyRun is kamal running on a pseudo-terminal.
type ttyRun struct {
	t    *testing.T
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer
	seen int // screen offset after the last match
	done chan struct{}
	read chan struct{} // closed when the terminal's output is read to its end
	err  error
}

// startTTY starts the kamal binary in the app dir on a terminal.
func (a *App) startTTY(args ...string) *ttyRun {
	a.t.Helper()
	c := exec.Command(kamalBin, args...)
	c.Dir, c.Env = a.Dir, a.env([]string{"TERM=xterm"})
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 50, Cols: 220})
	if err != nil {
		a.t.Fatal(err)
	}
	read := make(chan struct{})
	r := &ttyRun{t: a.t, tty: tty, done: make(chan struct{}), read: read}
	go func() {
		defer close(read)
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			r.mu.Lock()
			r.buf.Write(b[:n])
			r.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() { r.err = c.Wait(); close(r.done) }()
	a.t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			c.Process.Kill()
			<-r.done
		}
		tty.Close()
		<-read
		recordOutput(r.screen(), "") // for the suite's secrets check
		a.t.Logf("$ kamal %s\n--- terminal\n%s", strings.Join(args, " "), r.screen())
	})
	return r
}

// screen is what the terminal showed: escape sequences and CRs removed.
func (r *ttyRun) screen() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.ReplaceAll(ansiSeqRe.ReplaceAllString(r.buf.String(), ""), "\r", "")
}

// expectRE waits until the terminal shows a match of re after the last
// match, and returns the match's groups; a minute without it fails the
// test (it only guards against a hang).
func (r *ttyRun) expectRE(re string) []string {
	r.t.Helper()
	rx := regexp.MustCompile(re)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		screen := r.screen()
		if m := rx.FindStringSubmatchIndex(screen[r.seen:]); m != nil {
			var groups []string
			for i := 0; i < len(m); i += 2 {
				if m[i] >= 0 {
					groups = append(groups, screen[r.seen+m[i]:r.seen+m[i+1]])
				} else {
					groups = append(groups, "")
				}
			}
			r.seen += m[1]
			return groups
		}
		select {
		case <-r.done:
			// kamal's last lines may still be on their way through the
			// terminal when it ends: read them before judging.
			select {
			case <-r.read:
			case <-time.After(2 * time.Second):
			}
			if !rx.MatchString(r.screen()[r.seen:]) {
				r.t.Fatalf("kamal ended (%v) before the terminal showed %s; after the last match:\n%s", r.err, re, r.screen()[r.seen:])
			}
		default:
		}
	}
	r.t.Fatalf("the terminal did not show %s within a minute; after the last match:\n%s", re, r.screen()[r.seen:])
	return nil
}

func (r *ttyRun) expect(text string) { r.t.Helper(); r.expectRE(regexp.QuoteMeta(text)) }

func (r *ttyRun) send(keys string) {
	r.t.Helper()
	if _, err := r.tty.Write([]byte(keys)); err != nil {
		r.t.Fatal(err)
	}
}

// exit waits for kamal to end and returns its exit status.
func (r *ttyRun) exit() int {
	r.t.Helper()
	select {
	case <-r.done:
	case <-time.After(runTimeout):
		r.t.Fatalf("kamal did not end; the terminal showed:\n%s", r.screen())
	}
	var ee *exec.ExitError
	if errors.As(r.err, &ee) {
		return ee.ExitCode()
	}
	if r.err != nil {
		r.t.Fatalf("kamal: %v", r.err)
	}
	return 0
}

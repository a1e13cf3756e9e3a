package main

// The REPL and breakpoint() driven from outside, as a user would: through a
// pipe (plain lines, scripted sessions) and through a pseudo-terminal (line
// editing, completion, history, Ctrl-C, Ctrl-D). Both run the real binary,
// built once, in a small app whose servers are never contacted.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// kamalBinary builds ./cmd/kamal once for all the tests of this package.
func kamalBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kamal-repl-test-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "kamal")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New("go build: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// replApp is an app directory with a Kamal 1 config (and a staging
// destination) whose hosts are never contacted; HOME is its own.
type replApp struct {
	dir, home string
}

func newReplApp(t *testing.T) *replApp {
	t.Helper()
	base := t.TempDir()
	a := &replApp{dir: filepath.Join(base, "app"), home: filepath.Join(base, "home")}
	files := map[string]string{
		"config/deploy.yml": `service: app
image: app
servers:
  - server1
  - server2
registry:
  server: registry.invalid:5000
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  multiarch: false
`,
		"config/deploy.staging.yml": "servers:\n  - staging1\n",
		"config/other.yml": `service: other
image: other
servers:
  - other1
registry:
  server: registry.invalid:5000
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  multiarch: false
`,
		"Dockerfile":                        "FROM scratch\n",
		".kamal/scripts/helpers.star":       "def twice(x):\n    return x * 2\n",
		".kamal/scripts/build.staging.star": "def where():\n    \"\"\"Say which destination's script this is\"\"\"\n    say(\"staging script\")\n",
		".kamal/scripts/build.star": `load("helpers.star", "twice")

def hello(tag = "v1"):
    """Greet, then stop at a breakpoint.

    The breakpoint sees tag and greeting.
    """
    greeting = "hello " + twice(tag)
    breakpoint()
    say("resumed with " + greeting)
`,
	}
	for rel, content := range files {
		p := filepath.Join(a.dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(a.home, 0o700); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *replApp) env() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + a.home, "VERSION=test-version",
		"KAMAL_REGISTRY_PASSWORD=pw-s3cret", "TERM=xterm"}
}

// pipe runs kamal with stdin from input and returns stdout, stderr and the
// exit status.
func (a *replApp) pipe(t *testing.T, input string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // hang guard only
	defer cancel()
	c := exec.CommandContext(ctx, kamalBinary(t), args...)
	c.Dir, c.Env = a.dir, a.env()
	c.Stdin = strings.NewReader(input)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("$ kamal %s  # exit %d\n--- stdin\n%.4000s--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, input, out.String(), errb.String())
	return out.String(), errb.String(), code
}

func wantLines(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

func TestREPLFromAPipe(t *testing.T) {
	a := newReplApp(t)
	input := strings.Join([]string{
		`config.service`,
		`config.hosts`,
		`1 + 1`,
		`x = 20`,
		`def add(a, b = 1):`,
		`    return a + b`,
		``,
		`add(x, b = 2)`,
		`add("a")`,
		`x`,
		`undefined_name`,
		`hello`,
		`twice(2)`,
		`steps.build_command`,
		`str(cmd("echo", secret("pw-s3cret")))`,
		`None`,
		`"last"`,
	}, "\n") + "\n"
	out, _, code := a.pipe(t, input, "repl")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantLines(t, "repl output", out,
		"\"app\"\n",
		"[\"server1\", \"server2\"]\n",
		"2\n",
		"22\n",
		// A runtime error shows its backtrace and the session goes on.
		"Traceback (most recent call last):\n  <stdin>:1:4: in <expr>\n  <stdin>:2:14: in add\nError: unknown binary op: string + int\n",
		"20\n",
		"undefined: undefined_name",
		"<function hello>\n",
		"<function build_command>\n",
		"\"/usr/bin/env echo [REDACTED]\"\n",
		"\"last\"\n",
	)
	// The user's helper was loaded by the user's script, not the prompt.
	wantLines(t, "repl output", out, "undefined: twice")
	if strings.Contains(out, "pw-s3cret") {
		t.Errorf("the secret leaked:\n%s", out)
	}
	if strings.Contains(out, "None") {
		t.Errorf("None is not printed:\n%s", out)
	}
}

func TestREPLHonoursConfigDestinationAndDryRun(t *testing.T) {
	a := newReplApp(t)
	out, _, _ := a.pipe(t, "config.service\nconfig.hosts\n", "repl", "-c", "config/other.yml")
	wantLines(t, "-c other.yml", out, "\"other\"\n", "[\"other1\"]\n")

	out, _, _ = a.pipe(t, "config.hosts\nconfig.destination\nwhere\n", "repl", "-d", "staging")
	wantLines(t, "-d staging", out, "[\"staging1\"]\n", "\"staging\"\n", "<function where>\n")

	marker := filepath.Join(a.dir, "marker")
	out, _, _ = a.pipe(t, "local.run(cmd(\"touch\", \"marker\")).ok\n", "repl", "--dry-run")
	wantLines(t, "--dry-run", out, "Running /usr/bin/env touch marker on localhost", "True\n")
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("--dry-run ran the command: %s exists", marker)
	}
	a.pipe(t, "local.run(cmd(\"touch\", \"marker\")).ok\n", "repl")
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("without --dry-run the command did not run: %v", err)
	}
}

func TestBreakpointOpensThePromptWithTheCallersLocals(t *testing.T) {
	a := newReplApp(t)
	out, _, code := a.pipe(t, "tag\ngreeting\ngreeting = 'changed'\nconfig.service\n", "build", "hello", "--tag", "v2")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantLines(t, "output", out,
		"stopped at .kamal/scripts/build.star:9 in hello (breakpoint())\n",
		"\"v2\"\n", "\"hello v2v2\"\n", "\"app\"\n",
		// Assigning the function's variables is refused, plainly.
		"cannot assign greeting: a stopped function's variables cannot be changed",
		// Leaving the prompt (end of input) resumes the flow.
		"resumed with hello v2v2\n")
	if i, j := strings.Index(out, "\"app\"\n"), strings.Index(out, "resumed with"); i > j {
		t.Errorf("the flow resumed before the prompt ended:\n%s", out)
	}
}

// --- pseudo-terminal ---------------------------------------------------------

var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// session is kamal running on a pseudo-terminal.
type session struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	buf  bytes.Buffer // everything the terminal showed
	seen int          // how much of buf expect has consumed
	done chan struct{}
	err  error
	// drained is closed once the terminal has nothing more to read.
	drained chan struct{}
}

func (a *replApp) terminal(t *testing.T, args ...string) *session {
	t.Helper()
	c := exec.Command(kamalBinary(t), args...)
	c.Dir, c.Env = a.dir, a.env()
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, cmd: c, tty: tty, done: make(chan struct{}), drained: make(chan struct{})}
	go func() {
		defer close(s.drained)
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				break
			}
		}
	}()
	go func() { s.err = c.Wait(); close(s.done) }()
	t.Cleanup(func() {
		c.Process.Kill()
		<-s.done
		tty.Close()
		t.Logf("terminal transcript:\n%s", s.screen(0))
	})
	return s
}

// screen is what the terminal showed from offset on, without escape
// sequences and carriage returns.
func (s *session) screen(from int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.ReplaceAll(ansiRE.ReplaceAllString(s.buf.String()[from:], ""), "\r", "")
}

// expect waits until the terminal shows want after what earlier expects
// consumed, and consumes up to its end. The deadline only guards against a
// hang.
func (s *session) expect(want string) {
	s.t.Helper()
	s.waitFor(func(clean string) (int, bool) {
		i := strings.Index(clean, want)
		return i + len(want), i >= 0
	}, want)
}

// waitFor waits until match finds what it looks for in the cleaned text
// shown since the last match, and consumes up to the end match reports.
func (s *session) waitFor(match func(clean string) (end int, ok bool), what string) {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	exited := false
	for {
		s.mu.Lock()
		raw := s.buf.String()
		s.mu.Unlock()
		// Match on the cleaned text, then map back to a raw offset by
		// cleaning prefixes; the transcripts are small.
		clean := strings.ReplaceAll(ansiRE.ReplaceAllString(raw[s.seen:], ""), "\r", "")
		if end, ok := match(clean); ok {
			for off := s.seen; off <= len(raw); off++ {
				if len(strings.ReplaceAll(ansiRE.ReplaceAllString(raw[s.seen:off], ""), "\r", "")) >= end {
					s.seen = off
					break
				}
			}
			return
		}
		if exited {
			s.t.Fatalf("kamal exited (%v) before showing %q; after the last match it showed:\n%s", s.err, what, s.screen(s.seen))
		}
		select {
		case <-s.done:
			select { // let the reader drain, then look once more
			case <-s.drained:
			case <-time.After(5 * time.Second):
			}
			exited = true
			continue
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal did not show %q; after the last match it showed:\n%s", what, s.screen(s.seen))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *session) send(keys string) {
	s.t.Helper()
	if _, err := s.tty.Write([]byte(keys)); err != nil {
		s.t.Fatal(err)
	}
}

// exit waits for kamal to end and returns its exit status.
func (s *session) exit() int {
	s.t.Helper()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		s.t.Fatalf("kamal did not exit; it showed:\n%s", s.screen(s.seen))
	}
	var ee *exec.ExitError
	if errors.As(s.err, &ee) {
		return ee.ExitCode()
	}
	if s.err != nil {
		s.t.Fatal(s.err)
	}
	return 0
}

func TestREPLOnATerminal(t *testing.T) {
	a := newReplApp(t)
	s := a.terminal(t, "repl")
	s.expect("Ctrl-D leaves.")
	s.expect(">>> ")

	// Completion of a global name, then of an attribute.
	s.send("conf\t")
	s.expect("config")
	s.send(".serv\t")
	s.expect("config.service")
	s.send("\r")
	s.expect("\"app\"\n>>> ")

	// Completion through a chain of attributes and of the steps table.
	s.send("config.builder.ty\t\r")
	s.expect("config.builder.type")
	s.expect(">>> ")
	s.send("steps.build_com\t\r")
	s.expect("<function build_command>\n>>> ")

	// Multi-line input: a def continues on "... " lines until a blank one.
	s.send("def f(n):\r")
	s.expect("... ")
	s.send("    return n * 3\r")
	s.expect("... ")
	s.send("\r")
	s.expect(">>> ")
	s.send("f(14)\r")
	s.expect("42\n>>> ")

	// An error shows its backtrace and keeps the prompt.
	s.send("f(None)\r")
	s.expect("Traceback (most recent call last):")
	s.expect("in f\nError: unknown binary op: NoneType * int\n>>> ")

	// Ctrl-C on a half-typed line drops the line and keeps the prompt.
	s.send("this is not finished\x03")
	s.expect(">>> ")
	s.send("f(2)\r")
	s.expect("6\n>>> ")

	// Ctrl-C cancels a running step (the local command is stopped) and
	// keeps the prompt.
	// The sleep is long enough that the prompt can only come back early if
	// it was stopped (the expect deadline is far shorter).
	s.send("local.run(cmd(\"sleep\", \"2999\"))\r")
	s.expect("Running /usr/bin/env sleep 2999 on localhost")
	s.send("\x03")
	s.expect("Traceback (most recent call last):")
	s.expect(">>> ")
	if pids := processesRunning("sleep", "2999"); len(pids) > 0 {
		t.Errorf("sleep 2999 still runs after Ctrl-C: pids %v", pids)
	}
	s.send("\"still here\"\r")
	s.expect("\"still here\"\n>>> ")

	// Ctrl-D leaves, exit status 0.
	s.send("\x04")
	if code := s.exit(); code != 0 {
		t.Errorf("exit status %d after Ctrl-D, want 0", code)
	}

	// The history was saved and comes back with the up arrow.
	hist, err := os.ReadFile(filepath.Join(a.home, ".kamal_repl_history"))
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, "history file", string(hist), "config.service\n", "f(14)\n", "\"still here\"\n")
	s2 := a.terminal(t, "repl")
	s2.expect(">>> ")
	s2.send("\x1b[A\r")
	s2.expect("\"still here\"\n>>> ")
	s2.send("\x04")
	s2.exit()
}

func TestBreakpointOnATerminal(t *testing.T) {
	a := newReplApp(t)
	s := a.terminal(t, "build", "hello", "--tag", "x")
	s.expect("stopped at .kamal/scripts/build.star:9 in hello")
	s.expect("(debug) ")
	s.send("gree\t\r")
	s.expect("\"hello xx\"\n(debug) ")
	s.send("\x04")
	s.expect("resumed with hello xx")
	if code := s.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// processesRunning lists the pids whose command line is exactly args.
func processesRunning(args ...string) []string {
	want := strings.Join(args, "\x00") + "\x00"
	entries, _ := os.ReadDir("/proc")
	var pids []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == want {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// A piped line over 64 KiB used to stop the scanner for good, and the
// REPL printed "bufio.Scanner: token too long" forever. Lines up to 1 MiB
// are read whole; a longer one is refused once and the session goes on.
func TestREPLReadsLongLinesAndRefusesAnOverlongOneOnce(t *testing.T) {
	a := newReplApp(t)
	long := `len("` + strings.Repeat("a", 200_000) + `")`
	overlong := strings.Repeat("x", 2<<20)
	input := "1 + 1\n" + long + "\n" + overlong + "\n3 + 4\n"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second) // hang guard only
	defer cancel()
	c := exec.CommandContext(ctx, kamalBinary(t), "repl")
	c.Dir, c.Env = a.dir, a.env()
	c.Stdin = strings.NewReader(input)
	out := &cappedBuffer{max: 1 << 20}
	c.Stdout, c.Stderr = out, out
	err := c.Run()
	if ctx.Err() != nil || err != nil {
		t.Fatalf("kamal repl: %v (timed out: %v); output starts:\n%.2000s", err, ctx.Err() != nil, out.String())
	}
	got := out.String()
	wantLines(t, "repl output", got, "2\n", "200000\n", "7\n")
	if n := strings.Count(got, "input line longer than 1 MiB: ignored"); n != 1 {
		t.Errorf("the overlong line was refused %d times, want once:\n%.2000s", n, got)
	}
}

// cappedBuffer keeps at most max bytes and drops the rest.
type cappedBuffer struct {
	b   bytes.Buffer
	max int
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if room := c.max - c.b.Len(); room > 0 {
		c.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string { return c.b.String() }

// The debugger's prompt refuses an overlong line once and goes on reading
// (it used to take the scanner's error as the end of input).
func TestBreakpointRefusesAnOverlongLineOnce(t *testing.T) {
	a := newReplApp(t)
	out, _, code := a.pipe(t, strings.Repeat("x", 2<<20)+"\ntag\n", "build", "hello", "--tag", "v2")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := strings.Count(out, "input line longer than 1 MiB: ignored"); n != 1 {
		t.Errorf("refused %d times, want once", n)
	}
	wantLines(t, "output", out, "\"v2\"\n", "resumed with hello v2v2\n")
}

// Everything a prompt prints is scrubbed of the run's secrets: here the
// debugger's source line, which quotes the script.
func TestDebuggerLinesAreScrubbed(t *testing.T) {
	a := newReplApp(t)
	f, err := os.OpenFile(filepath.Join(a.dir, ".kamal/scripts/build.star"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\ndef leak():\n    docker.login()\n    breakpoint()  # the password is pw-s3cret\n")
	f.Close()
	out, _, code := a.pipe(t, "1 +\n", "build", "leak")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantLines(t, "output", out, "breakpoint()  # the password is [REDACTED]")
	if strings.Contains(out, "pw-s3cret") {
		t.Errorf("the secret leaked:\n%s", out)
	}
}

// A command the config runs has the terminal while it runs (its process
// group is the foreground one): it can prompt and read there instead of
// being stopped by SIGTTIN, and Ctrl-C there is the user's interrupt.
func TestAConfigCommandCanReadTheTerminal(t *testing.T) {
	a := newReplApp(t)
	env := filepath.Join(a.dir, ".env")
	os.WriteFile(env, []byte("TYPED=$(printf 'type: ' >/dev/tty; read x </dev/tty; echo got-$x)\n"), 0o600)
	s := a.terminal(t, "config")
	s.expect("type: ")
	s.send("abc\r")
	s.expect(":hosts:")
	wantExit(t, s, 0)

	os.WriteFile(env, []byte("SLOW=$(printf 'waiting ' >/dev/tty; sleep 30)\n"), 0o600)
	s = a.terminal(t, "config")
	s.expect("waiting ")
	s.send("\x03")
	s.expect("ERROR (Interrupt): Interrupted while running $(printf 'waiting ' >/dev/tty; sleep 30) (.env:1)")
	wantExit(t, s, 130)
}

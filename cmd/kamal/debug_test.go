package main

// The debugger driven through a pseudo-terminal, one test per command at
// a stop, with the real binary (see repl_test.go for the app and the
// session helpers). No server is contacted: the script's "hosts" only run
// Starlark code and local commands, and the stock flows run with
// --dry-run.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// debugScript is the user script the tests stop in. Line numbers matter:
// the tests name them.
const debugScript = `def _double(x):
    y = x * 2
    return y

def walk(tag = "v1"):
    greeting = "hello " + tag
    greet_count = 0
    items = ["a"]
    n = _double(3)
    say("n is %d" % n)
    items.append("b")
    say("walked " + greeting + " " + str(items))

def hosts():
    seen = []
    on(["server1", "server2"], lambda host: _visit(host, seen))
    say("visited " + str(sorted(seen)))

def _visit(host, seen):
    seen.append(host)
    say("visiting " + host)

def chatter():
    on(["server1", "server2"], _chatter_on)

def _chatter_on(host):
    if host == "server1":
        breakpoint()
        say("server1 went on")
        return
    for i in range(6):
        say("tick %d from %s" % (i, host))
        local.run(cmd("sleep", "0.2"), level = "debug")

def lines():
    count = 0
    label = "x"
    say("%s %d" % (label,
                   count))
    count += 1
    return count

SCRIPT_GLOBAL = 1

def three():
    on(["server1", "server2", "server3"], _tick)
    say("all ticked")

def _tick(host):
    attempt = 0
    say("tick " + host)
    return attempt

def loop():
    total = 0
    for i in range(5):
        total += i
    say("total %d" % total)

def spin():
    n = 0
    while n < 600:
        n += 1
        local.run(cmd("sleep", "0.05"), level = "debug")
    say("spun %d" % n)

def gather():
    on(["server1", "server2", "server3"], _gather_on)

def _gather_on(host):
    if host == "server2":
        breakpoint()  # gather
        return
    for i in range(15):
        local.run(cmd("sleep", "0.1"), level = "debug")
`

func debugApp(t *testing.T) *replApp {
	t.Helper()
	a := newReplApp(t)
	if err := os.WriteFile(filepath.Join(a.dir, "debug.star"), []byte(debugScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return a
}

// debug starts `kamal build SUB --script debug.star ARGS...` on a terminal.
func (a *replApp) debug(t *testing.T, sub string, args ...string) *session {
	t.Helper()
	return a.terminal(t, append([]string{"build", sub, "--script", "debug.star"}, args...)...)
}

func wantExit(t *testing.T, s *session, want int) {
	t.Helper()
	if code := s.exit(); code != want {
		t.Errorf("exit status %d, want %d", code, want)
	}
}

func TestDebugBreakStopsAtAUserScriptLine(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:9", "--break", "debug.star:12")
	s.expect("stopped at debug.star:9 in walk (breakpoint 1)\n")
	s.expect("    9      n = _double(3)\n")
	s.expect("(debug) ")
	s.send("continue\r")
	s.expect("n is 6")
	s.expect("stopped at debug.star:12 in walk (breakpoint 2)\n")
	s.send("continue\r")
	s.expect(`walked hello v1 ["a", "b"]`)
	wantExit(t, s, 0)
}

// stockLine is the number of the first line of scripts/build.star at or
// after the line starting "def NAME(" that contains text.
func stockLine(t *testing.T, def, text string) int {
	t.Helper()
	b, err := os.ReadFile("../../scripts/build.star")
	if err != nil {
		t.Fatal(err)
	}
	in := false
	for i, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "def "+def+"(") {
			in = true
		}
		if in && strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("no line with %q in def %s of scripts/build.star", text, def)
	return 0
}

func TestDebugBreakStopsInTheStockScriptOnEachHost(t *testing.T) {
	line := stockLine(t, "pull_on_host", "docker.pull(image)")
	spec := "@kamal//build.star:" + strconv.Itoa(line)
	s := newReplApp(t).terminal(t, "build", "pull", "--dry-run", "--break", spec)
	// One stop at a time, each named after its host; the other host waits.
	first := s.expectRE(`\[(server[12])\] stopped at ` + regexp.QuoteMeta(spec) + ` in pull_on_host \(breakpoint 1\)\n`)
	s.expectRE(`\n\[` + first + `\] +` + strconv.Itoa(line) + `  +ssh.run\(host, docker.pull\(image\)\)\n`)
	s.expect("[" + first + "] (debug) ")
	s.send("host\r")
	s.expect(`"` + first + `"`)
	if strings.Contains(s.screen(s.seen), "stopped at") {
		t.Fatal("a second host stopped while the first was at the prompt")
	}
	s.send("continue\r")
	other := map[string]string{"server1": "server2", "server2": "server1"}[first]
	s.expect("[" + other + "] stopped at " + spec)
	s.expect("[" + other + "] (debug) ")
	s.send("host\r")
	s.expect(`"` + other + `"`)
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugStepGoesIntoCalls(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:9")
	s.expect("(debug) ")
	s.send("step\r")
	s.expect("stopped at debug.star:2 in _double\n")
	s.expect("    2      y = x * 2\n")
	s.send("step\r")
	s.expect("stopped at debug.star:3 in _double\n")
	s.send("step\r")
	s.expect("stopped at debug.star:10 in walk\n")
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugStepGoesIntoEachHostOfOn(t *testing.T) {
	s := debugApp(t).debug(t, "hosts", "--break", "debug.star:16")
	s.expect("stopped at debug.star:16 in hosts (breakpoint 1)")
	// Stepping carries into every host's thread of on(); their stops come one
	// at a time in whatever order the threads run, so step on at each stop
	// until both hosts have stopped inside _visit and the run went on.
	stop := regexp.MustCompile(`(?:\[(server[12])\] )?stopped at (debug\.star:\d+ in \w+)\n|visited \["server1", "server2"\]`)
	inVisit := map[string]bool{}
	s.send("step\r")
	for i := 0; ; i++ {
		if i == 40 {
			t.Fatalf("still stopping after %d steps; hosts seen in _visit: %v", i, inVisit)
		}
		var host, where string
		var done bool
		s.waitFor(func(screen string) (int, bool) {
			m := stop.FindStringSubmatchIndex(screen)
			if m == nil {
				return 0, false
			}
			if m[2] >= 0 {
				host = screen[m[2]:m[3]]
			}
			if m[4] >= 0 {
				where = screen[m[4]:m[5]]
			} else {
				done = true
			}
			return m[1], true
		}, "a stop or the end of the run")
		if done {
			break
		}
		if where == "debug.star:20 in _visit" {
			if host == "" {
				t.Fatalf("a stop inside on() is not labelled with its host")
			}
			inVisit[host] = true
		}
		s.send("step\r")
	}
	if !inVisit["server1"] || !inVisit["server2"] {
		t.Errorf("step stopped inside _visit on %v, want both hosts", inVisit)
	}
	wantExit(t, s, 0)
}

// Every statement is a line to stop at, a constant assignment too; the
// second line of a statement that spans two is not.
func TestDebugStepStopsAtEveryStatementOnce(t *testing.T) {
	s := debugApp(t).debug(t, "lines", "--break", "debug.star:36")
	s.expect("stopped at debug.star:36 in lines (breakpoint 1)\n")
	s.expect("   36      count = 0\n")
	s.send("step\r")
	s.expect("stopped at debug.star:37 in lines\n")
	s.send("count\r") // the line above ran, this one did not
	s.expect("0\n")
	s.send("label\r")
	s.expect(`undefined: label`)
	s.send("step\r")
	s.expect("stopped at debug.star:38 in lines\n")
	s.send("step\r")
	s.expect("x 0")
	s.expect("stopped at debug.star:40 in lines\n")
	s.send("step\r")
	s.expect("stopped at debug.star:41 in lines\n")
	s.send("count\r")
	s.expect("1\n")
	s.send("continue\r")
	wantExit(t, s, 0)
	if strings.Contains(s.screen(0), "debug.star:39") {
		t.Error("stepping stopped on the second line of a statement")
	}
}

// A --break on a line that only assigns a constant stops there, before it.
func TestDebugBreakOnAConstantAssignment(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:7")
	s.expect("stopped at debug.star:7 in walk (breakpoint 1)\n")
	s.expect("    7      greet_count = 0\n")
	s.send("locals\r")
	s.expect("tag = \"v1\"\ngreeting = \"hello v1\"\n(debug) ")
	s.send("next\r")
	s.expect("stopped at debug.star:8 in walk\n")
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugNextStepsOverCalls(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:9")
	s.expect("(debug) ")
	s.send("next\r")
	s.expect("stopped at debug.star:10 in walk\n")
	s.send("next\r")
	s.expect("n is 6")
	s.expect("stopped at debug.star:11 in walk\n")
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugFinishRunsToTheCaller(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:2")
	s.expect("stopped at debug.star:2 in _double (breakpoint 1)")
	s.send("finish\r")
	s.expect("stopped at debug.star:9 in walk (returned)\n")
	s.send("step\r")
	s.expect("stopped at debug.star:10 in walk\n")
	s.send("n\r") // the call's result is stored now
	s.expect("6\n")
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugContinueRunsToTheNextStop(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:2", "--break", "debug.star:11")
	s.expect("stopped at debug.star:2 in _double (breakpoint 1)")
	s.send("continue\r")
	s.expect("n is 6")
	s.expect("stopped at debug.star:11 in walk (breakpoint 2)")
	s.send("\x04") // Ctrl-D goes on as continue does, on a line of its own
	s.expect("(debug) \nwalked hello v1")
	wantExit(t, s, 0)
}

func TestDebugWhereUpDown(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:3")
	s.expect("(debug) ")
	s.send("where\r")
	s.expect("  debug.star:9 in walk\n> debug.star:3 in _double\n")
	s.send("down\r")
	s.expect("no frame below this one")
	s.send("up\r")
	s.expect("debug.star:9 in walk\n    9      n = _double(3)\n")
	s.send("where\r")
	s.expect("> debug.star:9 in walk\n  debug.star:3 in _double\n")
	s.send("greeting\r") // expressions see the selected frame
	s.expect(`"hello v1"`)
	s.send("up\r")
	s.expect("no frame above this one")
	s.send("down\r")
	s.expect("debug.star:3 in _double")
	s.send("y\r")
	s.expect("6\n")
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugLocalsAndDir(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--tag", "v2", "--break", "debug.star:10")
	s.expect("(debug) ")
	s.send("locals\r")
	s.expect("tag = \"v2\"\ngreeting = \"hello v2\"\ngreet_count = 0\nitems = [\"a\"]\nn = 6\n")
	s.send("dir()\r")
	s.expect(`["greet_count", "greeting", "items", "n", "tag"]`)
	s.send("dir(items)[:2]\r") // dir(x) is still Starlark's
	s.expect(`["append", "clear"]`)
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugHelp(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:9")
	s.expect("help lists the commands")
	s.send("help\r")
	for _, w := range []string{"step ", "next ", "finish ", "continue ", "where ", "up, down ", "locals ", "help ", "quit "} {
		s.expect("\n  " + w)
	}
	s.send("continue\r")
	wantExit(t, s, 0)
}

func TestDebugExpressionsAndAssignments(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:11")
	s.expect("(debug) ")
	s.send("greeting.upper() + config.service\r")
	s.expect(`"HELLO V1app"`)
	// A frame's variable cannot be assigned: said plainly, nothing runs.
	s.send("n = 100\r")
	s.expect("cannot assign n: a stopped function's variables cannot be changed")
	s.send("n\r")
	s.expect("6\n")
	// Nor can a global of the script, a builtin, or a name load() binds:
	// at the prompt they would only hide what the run uses.
	s.send("SCRIPT_GLOBAL = 2\r")
	s.expect("cannot assign SCRIPT_GLOBAL: the globals of debug.star are frozen once it has loaded\nNothing ran.")
	s.send("say = None\r")
	s.expect("cannot assign say: it is a builtin or a function of the scripts")
	s.send("for n in [1]: pass\r\r")
	s.expect("cannot assign n: a stopped function's variables")
	s.send("load(\"@kamal//build.star\", greeting = \"push\")\r")
	s.expect("cannot assign greeting: a stopped function's variables")
	s.send("SCRIPT_GLOBAL + len(greeting)\r")
	s.expect("9\n")
	// Its contents can change, and the function sees that.
	s.send("items.append(\"z\")\r")
	// A new name lives at this stop.
	s.send("extra = n + 1\r")
	s.send("extra\r")
	s.expect("7\n")
	s.send("!n\r") // ! forces an expression
	s.expect("6\n")
	s.send("continue\r")
	s.expect(`walked hello v1 ["a", "z", "b"]`)
	wantExit(t, s, 0)
}

func TestDebugQuitEndsTheRunAsAnInterrupt(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:10")
	s.expect("(debug) ")
	s.send("quit\r")
	s.expect("ERROR (Interrupt): Interrupted in walk")
	wantExit(t, s, 130)
	if strings.Contains(s.screen(0), "n is 6") {
		t.Error("the flow went on after quit")
	}
}

// A signal while the prompt waits (from outside: on the terminal Ctrl-C
// is a key) ends the run as it would without the prompt.
func TestDebugSignalAtAStopEndsTheRun(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:10")
	s.expect("(debug) ")
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	s.expect("\ninterrupted: stopping the run\n") // on a line of its own, after the prompt
	s.expect("ERROR (Interrupt): Interrupted in walk")
	wantExit(t, s, 143)
	if strings.Contains(s.screen(0), "n is 6") {
		t.Error("the flow went on after the signal")
	}
}

func TestDebugTabListsSeveralCandidates(t *testing.T) {
	s := debugApp(t).debug(t, "walk", "--break", "debug.star:10")
	s.expect("(debug) ")
	s.send("gree\t") // extends to the common prefix
	s.expect("greet")
	s.send("\t") // nothing more to add: lists the candidates
	s.expect("greet_count  greeting")
	s.send("ing\r")
	s.expect(`"hello v1"`)
	s.send("continue\r")
	wantExit(t, s, 0)
}

// While one host is at the prompt (raw mode), another host's log lines
// come through the line editor: every line ends with CRLF, and the prompt
// is drawn again below them, so nothing is stair-stepped over the prompt.
func TestDebugOtherThreadsOutputKeepsThePromptWhole(t *testing.T) {
	s := debugApp(t).debug(t, "chatter")
	s.expect("[server1] stopped at debug.star:28 in _chatter_on (breakpoint())")
	s.expect("[server1] (debug) ")
	s.expect("tick 5 from server2")
	s.send("host\r")
	s.expect(`"server1"`)
	s.send("continue\r")
	s.expect("server1 went on")
	wantExit(t, s, 0)
	s.mu.Lock()
	raw := s.buf.String()
	s.mu.Unlock()
	for _, m := range regexp.MustCompile(`[^\r]\ntick|tick \d from server2[^\r]`).FindAllString(raw, -1) {
		t.Errorf("a tick line is not CRLF-terminated at the prompt: %q", m)
	}
	if n := strings.Count(raw, "[server1] (debug) "); n < 4 {
		t.Errorf("the prompt was drawn %d times, want it drawn again after the ticks", n)
	}
}

// expectRE waits until the terminal shows a match of re and returns its
// first group.
func (s *session) expectRE(re string) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	var got string
	s.waitFor(func(screen string) (int, bool) {
		m := rx.FindStringSubmatchIndex(screen)
		if m == nil {
			return 0, false
		}
		if len(m) >= 4 {
			got = screen[m[2]:m[3]]
		}
		return m[1], true
	}, re)
	return got
}

// scriptLine is the number of the line of debugScript containing text.
func scriptLine(t *testing.T, text string) int {
	t.Helper()
	for i, l := range strings.Split(debugScript, "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("no line with %q in debugScript", text)
	return 0
}

// A condition is evaluated in the frame: on three hosts, only server2's
// thread stops; the run then ends with every host done.
func TestDebugConditionalBreakStopsOnlyOnServer2(t *testing.T) {
	line := scriptLine(t, `say("tick " + host)`)
	at := "debug.star:" + strconv.Itoa(line)
	s := debugApp(t).debug(t, "three", "--break", at+` if host == "server2"`)
	s.expect("[server2] stopped at " + at + " in _tick (breakpoint 1)\n")
	s.expect("(debug) ")
	s.send("host\r")
	s.expect(`"server2"`)
	s.send("breakpoints\r")
	s.expect("1  " + at + ` if host == "server2"  (hits 1)`)
	s.send("continue\r")
	s.expect("all ticked")
	wantExit(t, s, 0)
	screen := s.screen(0)
	if n := strings.Count(screen, "stopped at"); n != 1 {
		t.Errorf("%d stops, want 1 (server2's):\n%s", n, screen)
	}
	for _, h := range []string{"server1", "server2", "server3"} {
		if !strings.Contains(screen, "tick "+h) {
			t.Errorf("%s did not tick", h)
		}
	}
}

// #3 stops at the third run of the line only.
func TestDebugBreakAtTheThirdHitStopsOnce(t *testing.T) {
	at := "debug.star:" + strconv.Itoa(scriptLine(t, "total += i"))
	s := debugApp(t).debug(t, "loop", "--break", at+"#3")
	s.expect("stopped at " + at + " in loop (breakpoint 1)\n")
	s.expect("(debug) ")
	s.send("i\r")
	s.expect("i\n2\n")
	s.send("continue\r")
	s.expect("total 10")
	wantExit(t, s, 0)
	if n := strings.Count(s.screen(0), "stopped at"); n != 1 {
		t.Errorf("%d stops, want 1:\n%s", n, s.screen(0))
	}
}

// break, breakpoints and clear at the prompt: a breakpoint set at a stop
// of breakpoint() stops the same thread later; clear removes it.
func TestDebugBreakAndClearAtThePrompt(t *testing.T) {
	tick := "debug.star:" + strconv.Itoa(scriptLine(t, `say("tick " + host)`))
	total := "debug.star:" + strconv.Itoa(scriptLine(t, "total += i"))
	s := debugApp(t).debug(t, "loop", "--break", "debug.star:"+strconv.Itoa(scriptLine(t, "total = 0")))
	s.expect("(debug) ")
	s.send("break " + total + " if i == 4\r")
	s.expect("breakpoint 2  " + total + " if i == 4  (hits 0)")
	s.send("break " + tick + "#2\r")
	s.expect("breakpoint 3  " + tick + "#2  (hits 0)")
	s.send("break nowhere.star:1\r")
	s.expect("break nowhere.star:1: nowhere.star is not a loaded script")
	s.send("clear 3\r")
	s.expect("breakpoint 3 cleared")
	s.send("breakpoints\r")
	s.expect("2  " + total + " if i == 4  (hits 0)\n")
	s.send("continue\r")
	s.expect("stopped at " + total + " in loop (breakpoint 2)")
	s.expect("(debug) ")
	s.send("total\r")
	s.expect("total\n6\n")
	s.send("clear\r")
	s.expect("all breakpoints cleared")
	s.send("continue\r")
	s.expect("total 10")
	wantExit(t, s, 0)
}

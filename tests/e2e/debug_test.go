package e2e

// The debugger against the rig, driven through a pseudo-terminal as a user
// would: `quit` at a stop ends the run as an interrupt does (commands cut
// off, the deploy lock released, exit 130), and stops on the threads of
// on(hosts, fn) come one at a time, each named after its real host.

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-dap"
)

// inSessions are the processes matching marker that run in a session of
// one of the rig's sshds, by pid.
func inSessions(t *testing.T, marker string) map[int]string {
	t.Helper()
	listeners := map[int]string{}
	for _, h := range rig.Hosts {
		listeners[sshdListener(t, h)] = h
	}
	out := map[int]string{}
	for pid, cmdline := range processes(t, marker) {
		for p := parentOf(pid); p > 1; p = parentOf(p) {
			if h, ok := listeners[p]; ok {
				out[pid] = cmdline + " in a session of " + h
			}
		}
	}
	return out
}

// The stop is on server1 while server2 and server3 run a command that
// never ends on their own: quit at the prompt cuts those off, releases
// the deploy lock the pull holds, and the run ends as Ctrl-C ends it.
func TestDebugQuitEndsTheRunAsAnInterrupt(t *testing.T) {
	app := newApp(t, "app")
	marker := unique()
	t.Cleanup(func() { killProcesses(t, "sleep "+marker) })
	app.WriteFile(".kamal/scripts/build.star", `def pull_on_host(host):
    if host == "server1":
        say("server1 waits at the debugger")
    else:
        ssh.run(host, cmd("sleep", "`+marker+`"))
    say("not reached on " + host)
`, 0o644)
	app.Commit("a pull that stops on server1 while the others hang")

	run := app.startTTY("build", "pull", "--break", ".kamal/scripts/build.star:3")
	run.expect("Acquiring the deploy lock...")
	run.expect("[server1] stopped at .kamal/scripts/build.star:3 in pull_on_host (breakpoint 1)\n")
	run.expect("[server1]     3          say(\"server1 waits at the debugger\")\n")
	run.expect("[server1] (debug) ")
	waitFor(t, "sleep "+marker+" runs in sessions of server2 and server3", func() bool {
		return len(inSessions(t, "sleep "+marker)) == 2
	}, run.screen)
	if !exists(serverFile("server1", lockDir)) {
		t.Fatalf("the pull holds no deploy lock on server1 at the stop")
	}
	run.send("host\r")
	run.expect("\"server1\"\n")

	run.send("quit\r")
	run.expect("quitting: stopping the run\n")
	run.expect("Releasing the deploy lock...")
	run.expect("  ERROR (Interrupt): Interrupted while running /usr/bin/env sleep " + marker + " on server")
	if code := run.exit(); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	assertNoLock(t)
	if strings.Contains(run.screen(), "not reached on") {
		t.Error("a host went on after quit")
	}
	// The sessions are closed; the rig's sshds refuse signals to their
	// ForceCommand sessions, so the sleeps outlive them (see faults_test.go)
	// and are killed by the clean-up.
	deadline := time.Now().Add(30 * time.Second)
	left := inSessions(t, "sleep "+marker)
	for len(left) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		left = inSessions(t, "sleep "+marker)
	}
	if len(left) > 0 {
		t.Errorf("remote commands still in their sessions after quit: %v", left)
	}
}

// Two hosts reach the same --break in on(): one prompt at a time, named
// after its host, whose expressions run on that host; the other host
// waits before the line until the first goes on.
func TestDebugStopsOnTwoHostsOneAtATime(t *testing.T) {
	app := newApp(t, "app")
	marker := ".kamal/debug-" + unique()
	t.Cleanup(func() {
		for _, h := range rig.Hosts {
			os.Remove(serverFile(h, marker))
		}
	})
	app.WriteFile(".kamal/scripts/build.star", `def visit():
    """Touch a marker on two hosts"""
    on(["server1", "server2"], _touch)

def _touch(host):
    ssh.run(host, cmd("true"))
    ssh.run(host, cmd("touch", "`+marker+`"))
`, 0o644)
	app.Commit("a subcommand that runs on two hosts")
	touched := func(h string) bool { return exists(serverFile(h, marker)) }

	run := app.startTTY("build", "visit", "--break", ".kamal/scripts/build.star:7")
	stop := `\[(server[12])\] stopped at \.kamal/scripts/build\.star:7 in _touch \(breakpoint 1\)\n`
	first := run.expectRE(stop)[1]
	other := map[string]string{"server1": "server2", "server2": "server1"}[first]
	run.expect("[" + first + "] (debug) ")
	run.send("host\r")
	run.expect("\"" + first + "\"\n")
	// An expression at the stop runs on the stopped host: its sshd's
	// ForceCommand starts in that server's home.
	run.send("ssh.capture(host, cmd(\"pwd\"))\r")
	run.expect("\"" + rig.Homes[first] + "\"\n")
	// The other host has run its first command and waits at the line.
	waitFor(t, other+" runs its first command", func() bool {
		return strings.Contains(run.screen(), "Running /usr/bin/env true on "+other)
	}, run.screen)
	time.Sleep(time.Second) // time for a wrong second prompt or touch to show
	if strings.Contains(run.screen(), "["+other+"] stopped") || strings.Contains(run.screen(), "["+other+"] (debug)") {
		t.Fatalf("%s stopped while %s was at the prompt", other, first)
	}
	for _, h := range []string{"server1", "server2"} {
		if touched(h) {
			t.Fatalf("%s ran the line of the breakpoint while %s was stopped before it", h, first)
		}
	}

	run.send("continue\r")
	run.expectRE(`\[` + other + `\] stopped at \.kamal/scripts/build\.star:7 in _touch \(breakpoint 1\)\n`)
	run.expect("[" + other + "] (debug) ")
	waitFor(t, first+" touches its marker once it goes on", func() bool { return touched(first) }, run.screen)
	if touched(other) {
		t.Fatalf("%s ran the line of its breakpoint before its prompt went on", other)
	}
	run.send("host\r")
	run.expect("\"" + other + "\"\n")
	run.send("continue\r")
	if code := run.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for _, h := range []string{"server1", "server2"} {
		if !touched(h) {
			t.Errorf("%s did not run the line after its stop", h)
		}
	}
	if strings.Count(run.screen(), "stopped at") != 2 {
		t.Errorf("want exactly two stops:\n%s", run.screen())
	}
}

// An editor's session over --dap on the rig: a breakpoint in the user's
// script stops server1's thread of on() while the deploy lock is held; an
// expression runs on server1; terminating ends the run as an interrupt:
// exit 130, the lock released.
func TestDAPStopsOnAHostAndTerminateReleasesTheLock(t *testing.T) {
	app := newApp(t, "app")
	app.WriteFile(".kamal/scripts/build.star", `def pull_on_host(host):
    if host == "server1":
        say("server1 waits for the editor")
    say("went on on " + host)
`, 0o644)
	app.Commit("a pull that stops on server1")

	run := app.startTTY("build", "pull", "--dap", "127.0.0.1:0")
	addr := run.expectRE(`Waiting for a Debug Adapter Protocol client on (127\.0\.0\.1:\d+)\.\.\.\n`)[1]
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rd := bufio.NewReader(conn)
	seq := 0
	request := func(command string, m dap.RequestMessage) {
		t.Helper()
		seq++
		r := m.GetRequest()
		r.Seq, r.Type, r.Command = seq, "request", command
		if err := dap.WriteProtocolMessage(conn, m); err != nil {
			t.Fatal(err)
		}
	}
	// next reads up to the first message for which keep is true.
	next := func(keep func(dap.Message) bool) dap.Message {
		t.Helper()
		for {
			conn.SetReadDeadline(time.Now().Add(time.Minute))
			m, err := dap.ReadProtocolMessage(rd)
			if err != nil {
				t.Fatalf("reading from kamal --dap: %v\nthe terminal showed:\n%s", err, run.screen())
			}
			if e, ok := m.(*dap.ErrorResponse); ok {
				t.Fatalf("%s failed: %s", e.Command, e.Message)
			}
			if keep(m) {
				return m
			}
		}
	}
	is := func(command string) func(dap.Message) bool {
		return func(m dap.Message) bool {
			r, ok := m.(dap.ResponseMessage)
			return ok && r.GetResponse().Command == command
		}
	}

	request("initialize", &dap.InitializeRequest{Arguments: dap.InitializeRequestArguments{AdapterID: "kamal", LinesStartAt1: true}})
	next(is("initialize"))
	script := filepath.Join(app.Dir, ".kamal/scripts/build.star")
	request("setBreakpoints", &dap.SetBreakpointsRequest{Arguments: dap.SetBreakpointsArguments{Source: dap.Source{Path: script}, Breakpoints: []dap.SourceBreakpoint{{Line: 3}}}})
	if bp := next(is("setBreakpoints")).(*dap.SetBreakpointsResponse).Body.Breakpoints; len(bp) != 1 || !bp[0].Verified || bp[0].Line != 3 {
		t.Fatalf("breakpoints: %+v", bp)
	}
	request("configurationDone", &dap.ConfigurationDoneRequest{})
	next(is("configurationDone"))

	stopped := next(func(m dap.Message) bool { _, ok := m.(*dap.StoppedEvent); return ok }).(*dap.StoppedEvent)
	request("threads", &dap.ThreadsRequest{})
	name := ""
	for _, th := range next(is("threads")).(*dap.ThreadsResponse).Body.Threads {
		if th.Id == stopped.Body.ThreadId {
			name = th.Name
		}
	}
	if name != "server1" {
		t.Errorf("the stopped thread is %q, want server1", name)
	}
	request("stackTrace", &dap.StackTraceRequest{Arguments: dap.StackTraceArguments{ThreadId: stopped.Body.ThreadId}})
	top := next(is("stackTrace")).(*dap.StackTraceResponse).Body.StackFrames[0]
	if top.Name != "pull_on_host" || top.Line != 3 || top.Source == nil || top.Source.Path != script {
		t.Errorf("top frame: %+v (source %+v)", top, top.Source)
	}
	if !exists(serverFile("server1", lockDir)) {
		t.Errorf("the pull holds no deploy lock on server1 at the stop")
	}
	request("evaluate", &dap.EvaluateRequest{Arguments: dap.EvaluateArguments{Expression: `ssh.capture(host, cmd("pwd"))`, FrameId: top.Id}})
	if got := next(is("evaluate")).(*dap.EvaluateResponse).Body.Result; got != `"`+rig.Homes["server1"]+`"` {
		t.Errorf("pwd on the stopped host: %s, want %q", got, rig.Homes["server1"])
	}

	request("terminate", &dap.TerminateRequest{})
	next(is("terminate"))
	run.expect("Releasing the deploy lock...")
	run.expect("  ERROR (Interrupt): Interrupted")
	if code := run.exit(); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	assertNoLock(t)
	if strings.Contains(run.screen(), "went on on server1") {
		t.Error("server1 went on after terminate")
	}
}

// A conditional breakpoint inside on() on the rig's three servers stops
// only server2's thread: server1 and server3 run past the line (and touch
// their marker) while server2 waits at the prompt.
func TestDebugConditionalBreakStopsOnlyServer2OfThree(t *testing.T) {
	app := newApp(t, "app")
	marker := ".kamal/debug-" + unique()
	t.Cleanup(func() {
		for _, h := range rig.Hosts {
			os.Remove(serverFile(h, marker))
		}
	})
	app.WriteFile(".kamal/scripts/build.star", `def visit():
    """Touch a marker on every host"""
    on(["server1", "server2", "server3"], _touch)

def _touch(host):
    ssh.run(host, cmd("touch", "`+marker+`"))
`, 0o644)
	app.Commit("a subcommand that runs on three hosts")
	touched := func(h string) bool { return exists(serverFile(h, marker)) }

	run := app.startTTY("build", "visit", "--break", `.kamal/scripts/build.star:6 if host == "server2"`)
	run.expect("[server2] stopped at .kamal/scripts/build.star:6 in _touch (breakpoint 1)\n")
	run.expect("[server2] (debug) ")
	waitFor(t, "server1 and server3 run past the line", func() bool { return touched("server1") && touched("server3") }, run.screen)
	if touched("server2") {
		t.Fatal("server2 ran the line of its breakpoint before its prompt went on")
	}
	run.send("host\r")
	run.expect("\"server2\"\n")
	run.send("continue\r")
	if code := run.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !touched("server2") {
		t.Error("server2 did not run the line after its stop")
	}
	if n := strings.Count(run.screen(), "stopped at"); n != 1 {
		t.Errorf("%d stops, want server2's only:\n%s", n, run.screen())
	}
}

package main

// --dap ADDR driven by a Debug Adapter Protocol client, as an editor
// would drive it, against the real binary (the app of debug_test.go).

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-dap"
)

// dapClient is one editor's connection to kamal --dap.
type dapClient struct {
	t    *testing.T
	conn net.Conn
	rd   *bufio.Reader
	seq  int
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var dapAddrRe = regexp.MustCompile(`Waiting for a Debug Adapter Protocol client on (127\.0\.0\.1:\d+)\.\.\.\n`)

// startDAP runs kamal ARGS --dap 127.0.0.1:0 in the app and connects to
// the address it says it waits on.
func (a *replApp) startDAP(t *testing.T, args ...string) *dapClient {
	t.Helper()
	c := exec.Command(kamalBinary(t), append(args, "--dap", "127.0.0.1:0")...)
	c.Dir, c.Env = a.dir, a.env()
	out := &lockedBuffer{}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	cl := &dapClient{t: t, cmd: c, out: out, done: make(chan struct{})}
	go func() { cl.err = c.Wait(); close(cl.done) }()
	t.Cleanup(func() {
		select {
		case <-cl.done:
		default:
			c.Process.Kill()
			<-cl.done
		}
		t.Logf("$ kamal %s --dap 127.0.0.1:0\n%s", strings.Join(args, " "), out.String())
	})
	var addr string
	for deadline := time.Now().Add(time.Minute); addr == ""; time.Sleep(20 * time.Millisecond) {
		if m := dapAddrRe.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("kamal did not say where it waits:\n%s", out.String())
		}
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	cl.conn, cl.rd = conn, bufio.NewReader(conn)
	return cl
}

func (c *dapClient) request(command string, m dap.RequestMessage) {
	c.t.Helper()
	c.seq++
	r := m.GetRequest()
	r.Seq, r.Type, r.Command = c.seq, "request", command
	if err := dap.WriteProtocolMessage(c.conn, m); err != nil {
		c.t.Fatal(err)
	}
}

// next reads the next message; a minute without one fails the test.
func (c *dapClient) next() dap.Message {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(time.Minute))
	m, err := dap.ReadProtocolMessage(c.rd)
	if err != nil {
		c.t.Fatalf("reading from kamal --dap: %v\nkamal printed:\n%s", err, c.out.String())
	}
	return m
}

// expect reads messages until one of want's type, which it returns;
// failed responses on the way fail the test.
func expectDAP[T dap.Message](c *dapClient) T {
	c.t.Helper()
	for {
		m := c.next()
		if got, ok := m.(T); ok {
			return got
		}
		if e, ok := m.(*dap.ErrorResponse); ok {
			c.t.Fatalf("%s failed: %s", e.Command, e.Message)
		}
	}
}

func (c *dapClient) exit() int {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(time.Minute):
		c.t.Fatalf("kamal did not end:\n%s", c.out.String())
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		return ee.ExitCode()
	}
	return 0
}

// stopAt waits for a stopped event and checks the top frame.
func (c *dapClient) stopAt(reason, fn string, line int) (thread, frame int) {
	c.t.Helper()
	ev := expectDAP[*dap.StoppedEvent](c)
	if ev.Body.Reason != reason {
		c.t.Errorf("stopped for %q, want %q", ev.Body.Reason, reason)
	}
	c.request("stackTrace", &dap.StackTraceRequest{Arguments: dap.StackTraceArguments{ThreadId: ev.Body.ThreadId}})
	st := expectDAP[*dap.StackTraceResponse](c)
	if len(st.Body.StackFrames) == 0 {
		c.t.Fatal("no stack frames")
	}
	top := st.Body.StackFrames[0]
	if top.Name != fn || top.Line != line {
		c.t.Fatalf("stopped in %s at line %d, want %s at %d", top.Name, top.Line, fn, line)
	}
	return ev.Body.ThreadId, top.Id
}

func (c *dapClient) configure(file string, lines ...int) []dap.Breakpoint {
	c.t.Helper()
	var bps []dap.SourceBreakpoint
	for _, l := range lines {
		bps = append(bps, dap.SourceBreakpoint{Line: l})
	}
	return c.configureBreakpoints(file, bps...)
}

// configureBreakpoints initializes the session with breakpoints bps in
// file (conditions, hit conditions, log messages) and starts the run.
func (c *dapClient) configureBreakpoints(file string, bps ...dap.SourceBreakpoint) []dap.Breakpoint {
	c.t.Helper()
	c.request("initialize", &dap.InitializeRequest{Arguments: dap.InitializeRequestArguments{AdapterID: "kamal", LinesStartAt1: true, ColumnsStartAt1: true}})
	init := expectDAP[*dap.InitializeResponse](c)
	if !init.Body.SupportsConfigurationDoneRequest {
		c.t.Error("the adapter does not announce configurationDone")
	}
	expectDAP[*dap.InitializedEvent](c)
	c.request("setBreakpoints", &dap.SetBreakpointsRequest{Arguments: dap.SetBreakpointsArguments{Source: dap.Source{Path: file}, Breakpoints: bps}})
	set := expectDAP[*dap.SetBreakpointsResponse](c)
	c.request("configurationDone", &dap.ConfigurationDoneRequest{})
	expectDAP[*dap.ConfigurationDoneResponse](c)
	return set.Body.Breakpoints
}

func (c *dapClient) evaluate(frame int, expr string) string {
	c.t.Helper()
	c.request("evaluate", &dap.EvaluateRequest{Arguments: dap.EvaluateArguments{Expression: expr, FrameId: frame, Context: "repl"}})
	return expectDAP[*dap.EvaluateResponse](c).Body.Result
}

func TestDAPBreakStepInspectAndContinue(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "walk", "--script", "debug.star")
	// Line 13 is blank: that breakpoint moves to the next statement (the
	// body of the def on line 14), which walk does not run.
	bps := c.configure(filepath.Join(a.dir, "debug.star"), 9, 13, 99)
	if len(bps) != 3 || !bps[0].Verified || bps[0].Line != 9 || !bps[1].Verified || bps[1].Line != 15 || bps[2].Verified {
		t.Fatalf("breakpoints: %+v", bps)
	}
	if !strings.Contains(bps[2].Message, "no statement at or after line 99") {
		t.Errorf("unverified breakpoint says %q", bps[2].Message)
	}
	thread, frame := c.stopAt("breakpoint", "walk", 9)

	c.request("scopes", &dap.ScopesRequest{Arguments: dap.ScopesArguments{FrameId: frame}})
	scopes := expectDAP[*dap.ScopesResponse](c)
	c.request("variables", &dap.VariablesRequest{Arguments: dap.VariablesArguments{VariablesReference: scopes.Body.Scopes[0].VariablesReference}})
	var got []string
	for _, v := range expectDAP[*dap.VariablesResponse](c).Body.Variables {
		got = append(got, v.Name+"="+v.Value)
	}
	if want := `tag="v1" greeting="hello v1" greet_count=0 items=["a"]`; strings.Join(got, " ") != want {
		t.Errorf("variables: %s, want %s", strings.Join(got, " "), want)
	}
	if r := c.evaluate(frame, "greeting.upper() + config.service"); r != `"HELLO V1app"` {
		t.Errorf("evaluate: %s", r)
	}
	if r := c.evaluate(frame, "greeting = 1"); !strings.Contains(r, "cannot assign greeting") {
		t.Errorf("assigning a frame's variable: %s", r)
	}

	c.request("stepIn", &dap.StepInRequest{Arguments: dap.StepInArguments{ThreadId: thread}})
	expectDAP[*dap.StepInResponse](c)
	_, frame = c.stopAt("step", "_double", 2)
	if r := c.evaluate(frame, "x"); r != "3" {
		t.Errorf("x in _double: %s", r)
	}
	c.request("stepOut", &dap.StepOutRequest{Arguments: dap.StepOutArguments{ThreadId: thread}})
	c.stopAt("step", "walk", 9)
	c.request("next", &dap.NextRequest{Arguments: dap.NextArguments{ThreadId: thread}})
	_, frame = c.stopAt("step", "walk", 10)
	if r := c.evaluate(frame, "n"); r != "6" {
		t.Errorf("n after the call: %s", r)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	expectDAP[*dap.TerminatedEvent](c)
	if code := c.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.Contains(c.out.String(), `walked hello v1 ["a", "b"]`) {
		t.Errorf("the run did not finish:\n%s", c.out.String())
	}
}

// Stops on the threads of on() come one at a time, each a thread of its
// own named after its host.
func TestDAPStopsEachHostOfOn(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "hosts", "--script", "debug.star")
	c.configure(filepath.Join(a.dir, "debug.star"), 20)
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		thread, frame := c.stopAt("breakpoint", "_visit", 20)
		c.request("threads", &dap.ThreadsRequest{})
		name := ""
		for _, th := range expectDAP[*dap.ThreadsResponse](c).Body.Threads {
			if th.Id == thread {
				name = th.Name
			}
		}
		if host := c.evaluate(frame, "host"); host != `"`+name+`"` {
			t.Errorf("thread %d is named %q but stopped for host %s", thread, name, host)
		}
		seen[name] = true
		c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	}
	if !seen["server1"] || !seen["server2"] {
		t.Errorf("stopped threads: %v, want server1 and server2", seen)
	}
	expectDAP[*dap.TerminatedEvent](c)
	if code := c.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// disconnect with terminateDebuggee ends the run as quit at the prompt.
func TestDAPTerminateEndsTheRunAsAnInterrupt(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "walk", "--script", "debug.star")
	c.configure(filepath.Join(a.dir, "debug.star"), 10)
	c.stopAt("breakpoint", "walk", 10)
	c.request("disconnect", &dap.DisconnectRequest{Arguments: &dap.DisconnectArguments{TerminateDebuggee: true}})
	expectDAP[*dap.DisconnectResponse](c)
	if code := c.exit(); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if out := c.out.String(); !strings.Contains(out, "ERROR (Interrupt): Interrupted in walk") || strings.Contains(out, "n is 6") {
		t.Errorf("want the run interrupted before line 10 ran:\n%s", out)
	}
}

func TestDAPRefusesANonLoopbackAddress(t *testing.T) {
	stdout, _, code := debugApp(t).pipe(t, "", "build", "walk", "--script", "debug.star", "--dap", "0.0.0.0:4711")
	if code != 1 || !strings.Contains(stdout, "ERROR (ArgumentError): --dap 0.0.0.0:4711: only a loopback address is allowed") {
		t.Errorf("exit %d, stdout:\n%s", code, stdout)
	}
}

// The built-in script has no file: its frames name it by a source
// reference, whose text the source request returns, and breakpoints can
// be set in it through that reference.
func TestDAPShowsTheBuiltInScriptBySourceReference(t *testing.T) {
	a := debugApp(t)
	if err := os.WriteFile(filepath.Join(a.dir, "look.star"), []byte("def look():\n    steps.ensure_run_directory(config.primary_host)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := a.startDAP(t, "build", "look", "--dry-run", "--script", "look.star")
	c.configure(filepath.Join(a.dir, "look.star"), 2)
	thread, _ := c.stopAt("breakpoint", "look", 2)
	c.request("stepIn", &dap.StepInRequest{Arguments: dap.StepInArguments{ThreadId: thread}})
	c.request("stackTrace", &dap.StackTraceRequest{Arguments: dap.StackTraceArguments{ThreadId: expectDAP[*dap.StoppedEvent](c).Body.ThreadId}})
	top := expectDAP[*dap.StackTraceResponse](c).Body.StackFrames[0]
	if top.Name != "ensure_run_directory" || top.Source == nil || top.Source.Name != "@kamal//build.star" || top.Source.SourceReference == 0 || top.Source.Path != "" {
		t.Fatalf("stepped into %s, source %+v; want ensure_run_directory in @kamal//build.star by reference", top.Name, top.Source)
	}
	ref := top.Source.SourceReference
	c.request("source", &dap.SourceRequest{Arguments: dap.SourceArguments{SourceReference: ref}})
	lines := strings.Split(expectDAP[*dap.SourceResponse](c).Body.Content, "\n")
	if top.Line < 1 || top.Line > len(lines) || !strings.Contains(lines[top.Line-1], `ssh.run(host, cmd("mkdir", "-p", config.run_directory))`) {
		t.Fatalf("line %d of the source is not the stopped line", top.Line)
	}
	c.request("setBreakpoints", &dap.SetBreakpointsRequest{Arguments: dap.SetBreakpointsArguments{
		Source: dap.Source{SourceReference: ref}, Breakpoints: []dap.SourceBreakpoint{{Line: top.Line - 1}}}})
	if bp := expectDAP[*dap.SetBreakpointsResponse](c).Body.Breakpoints; len(bp) != 1 || !bp[0].Verified || bp[0].Line != top.Line {
		t.Fatalf("a breakpoint on the docstring of the built-in function: %+v, want it moved to line %d", bp, top.Line)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	expectDAP[*dap.TerminatedEvent](c)
	if code := c.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
}

// A plain disconnect lets the run finish: the stop goes on and later
// breakpoints no longer stop it.
func TestDAPDisconnectLetsTheRunFinish(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "walk", "--script", "debug.star")
	c.configure(filepath.Join(a.dir, "debug.star"), 9, 11)
	c.stopAt("breakpoint", "walk", 9)
	c.request("disconnect", &dap.DisconnectRequest{Arguments: &dap.DisconnectArguments{}})
	expectDAP[*dap.DisconnectResponse](c)
	if code := c.exit(); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	if !strings.Contains(c.out.String(), `walked hello v1 ["a", "b"]`) {
		t.Errorf("the run did not finish:\n%s", c.out.String())
	}
}

// runEnds waits for the terminated event and exit status 0, and returns
// every message on the way.
func (c *dapClient) runEnds() []dap.Message {
	c.t.Helper()
	var seen []dap.Message
	for {
		m := c.next()
		seen = append(seen, m)
		if _, ok := m.(*dap.TerminatedEvent); ok {
			break
		}
	}
	if code := c.exit(); code != 0 {
		c.t.Errorf("exit status %d, want 0", code)
	}
	return seen
}

func countStops(ms []dap.Message) int {
	n := 0
	for _, m := range ms {
		if _, ok := m.(*dap.StoppedEvent); ok {
			n++
		}
	}
	return n
}

func TestDAPConditionalBreakpointStopsOnlyWhereItHolds(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "three", "--script", "debug.star")
	line := scriptLine(t, `say("tick " + host)`)
	bps := c.configureBreakpoints(filepath.Join(a.dir, "debug.star"),
		dap.SourceBreakpoint{Line: line, Condition: `host == "server3"`},
		dap.SourceBreakpoint{Line: line + 1, Condition: "host =="})
	if !bps[0].Verified || bps[1].Verified || !strings.Contains(bps[1].Message, "condition host ==") {
		t.Fatalf("breakpoints: %+v", bps)
	}
	thread, frame := c.stopAt("breakpoint", "_tick", line)
	if host := c.evaluate(frame, "host"); host != `"server3"` {
		t.Errorf("stopped for host %s, want server3", host)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	if n := countStops(c.runEnds()); n != 0 {
		t.Errorf("%d more stops after server3's", n)
	}
}

func TestDAPHitConditionStopsAtTheThirdHit(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "loop", "--script", "debug.star")
	line := scriptLine(t, "total += i")
	c.configureBreakpoints(filepath.Join(a.dir, "debug.star"), dap.SourceBreakpoint{Line: line, HitCondition: "3"})
	thread, frame := c.stopAt("breakpoint", "loop", line)
	if i := c.evaluate(frame, "i"); i != "2" {
		t.Errorf("stopped with i = %s, want 2 (the third run of the line)", i)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	if n := countStops(c.runEnds()); n != 0 {
		t.Errorf("%d more stops after the third hit", n)
	}
}

func TestDAPLogpointPrintsInsteadOfStopping(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "loop", "--script", "debug.star")
	line := scriptLine(t, "total += i")
	c.configureBreakpoints(filepath.Join(a.dir, "debug.star"), dap.SourceBreakpoint{Line: line, LogMessage: "i={i} total={total} {{literal}}", Condition: "i % 2 == 0"})
	var logged []string
	ms := c.runEnds()
	for _, m := range ms {
		if o, ok := m.(*dap.OutputEvent); ok && o.Body.Category == "console" {
			logged = append(logged, strings.TrimSuffix(o.Body.Output, "\n"))
			if o.Body.Line != line {
				t.Errorf("logpoint output placed at line %d, want %d", o.Body.Line, line)
			}
		}
	}
	if want := "i=0 total=0 {literal}|i=2 total=1 {literal}|i=4 total=6 {literal}"; strings.Join(logged, "|") != want {
		t.Errorf("logged %q, want %q", strings.Join(logged, "|"), want)
	}
	if n := countStops(ms); n != 0 {
		t.Errorf("a logpoint stopped %d times", n)
	}
}

func TestDAPSetVariableChangesAFramesLocal(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "loop", "--script", "debug.star")
	line := scriptLine(t, `say("total %d" % total)`)
	c.configure(filepath.Join(a.dir, "debug.star"), line)
	thread, frame := c.stopAt("breakpoint", "loop", line)
	c.request("scopes", &dap.ScopesRequest{Arguments: dap.ScopesArguments{FrameId: frame}})
	ref := expectDAP[*dap.ScopesResponse](c).Body.Scopes[0].VariablesReference
	c.request("setVariable", &dap.SetVariableRequest{Arguments: dap.SetVariableArguments{VariablesReference: ref, Name: "total", Value: "total * 10 + len(config.service)"}})
	if got := expectDAP[*dap.SetVariableResponse](c).Body; got.Value != "103" || got.Type != "int" {
		t.Errorf("setVariable answered %+v, want 103 (int)", got)
	}
	c.request("setVariable", &dap.SetVariableRequest{Arguments: dap.SetVariableArguments{VariablesReference: ref, Name: "nothing", Value: "1"}})
	if e := expectDAP[*dap.ErrorResponse](c); !strings.Contains(e.Message, "nothing is not a local variable of loop") {
		t.Errorf("setting an unknown name: %q", e.Message)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	c.runEnds()
	if !strings.Contains(c.out.String(), "total 103") {
		t.Errorf("the run did not go on with the new value:\n%s", c.out.String())
	}
}

func TestDAPPauseStopsARunningThread(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "spin", "--script", "debug.star")
	c.configure(filepath.Join(a.dir, "debug.star"))
	time.Sleep(300 * time.Millisecond) // let it spin a few rounds
	c.request("pause", &dap.PauseRequest{Arguments: dap.PauseArguments{ThreadId: 1}})
	expectDAP[*dap.PauseResponse](c)
	ev := expectDAP[*dap.StoppedEvent](c)
	if ev.Body.Reason != "pause" || ev.Body.ThreadId != 1 {
		t.Fatalf("stopped %+v, want the main thread for pause", ev.Body)
	}
	c.request("stackTrace", &dap.StackTraceRequest{Arguments: dap.StackTraceArguments{ThreadId: 1}})
	top := expectDAP[*dap.StackTraceResponse](c).Body.StackFrames[0]
	if top.Name != "spin" {
		t.Errorf("paused in %s, want spin", top.Name)
	}
	if n := c.evaluate(top.Id, "n > 0 and n < 600"); n != "True" {
		t.Errorf("paused with n > 0 and n < 600: %s", n)
	}
	// End the loop from the stop: the run finishes at once.
	c.request("setVariable", &dap.SetVariableRequest{Arguments: dap.SetVariableArguments{VariablesReference: top.Id, Name: "n", Value: "1000"}})
	expectDAP[*dap.SetVariableResponse](c)
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: 1}})
	c.runEnds()
	if !regexp.MustCompile(`spun 100[01]\n`).MatchString(c.out.String()) {
		t.Errorf("the run did not end its loop:\n%s", c.out.String())
	}
}

func TestDAPThreadsListsEveryHostsThread(t *testing.T) {
	a := debugApp(t)
	c := a.startDAP(t, "build", "gather", "--script", "debug.star")
	c.configure(filepath.Join(a.dir, "debug.star"))
	thread, _ := c.stopAt("breakpoint", "_gather_on", scriptLine(t, "breakpoint()  # gather"))
	c.request("threads", &dap.ThreadsRequest{})
	var names []string
	for _, th := range expectDAP[*dap.ThreadsResponse](c).Body.Threads {
		names = append(names, th.Name)
	}
	sort.Strings(names)
	if want := "main server1 server2 server3"; strings.Join(names, " ") != want {
		t.Errorf("threads %q, want %q", strings.Join(names, " "), want)
	}
	c.request("continue", &dap.ContinueRequest{Arguments: dap.ContinueArguments{ThreadId: thread}})
	exited := 0
	for _, m := range c.runEnds() {
		if e, ok := m.(*dap.ThreadEvent); ok && e.Body.Reason == "exited" {
			exited++
		}
	}
	if exited != 3 {
		t.Errorf("%d thread exited events, want one per host", exited)
	}
}

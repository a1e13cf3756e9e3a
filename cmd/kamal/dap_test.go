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
	c.request("initialize", &dap.InitializeRequest{Arguments: dap.InitializeRequestArguments{AdapterID: "kamal", LinesStartAt1: true, ColumnsStartAt1: true}})
	init := expectDAP[*dap.InitializeResponse](c)
	if !init.Body.SupportsConfigurationDoneRequest {
		c.t.Error("the adapter does not announce configurationDone")
	}
	expectDAP[*dap.InitializedEvent](c)
	var bps []dap.SourceBreakpoint
	for _, l := range lines {
		bps = append(bps, dap.SourceBreakpoint{Line: l})
	}
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

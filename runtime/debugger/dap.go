package debugger

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-dap"
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/builtins"
)

// The Debug Adapter Protocol server (--dap ADDR).
//
// An editor connects to ADDR, sets its breakpoints and says
// configurationDone; only then does the run start. From there the stops
// of the run (breakpoints, breakpoint() calls, steps) go to the editor
// instead of the terminal's prompt: a stopped event names the thread (the
// main one, or one host's of on()), and the editor asks for the stack,
// the frames' variables, evaluates expressions in a frame, and goes on
// with continue, next, stepIn or stepOut. Stops are one at a time, as at
// the prompt: another thread reaching a stop waits for the current one to
// go on. disconnect lets the run finish with no more stops (with
// terminateDebuggee, or terminate, it ends the run as quit does).
//
// Sources are identified as the run names them: an absolute path for
// the user's scripts, and a sourceReference for the built-in
// @kamal//build.star, whose text the source request returns.

// dapServer is the connection to one DAP client.
type dapServer struct {
	d    *Debugger
	conn net.Conn
	rd   *bufio.Reader

	wmu sync.Mutex // serializes writes and seq
	seq int

	configured chan struct{} // closed at configurationDone
	gone       chan struct{} // closed when the client is gone
	goneOnce   sync.Once

	mu   sync.Mutex
	stop *dapStop // the stop the client looks at, nil while running
}

// dapStop is one stop, waiting for the client to let it go on.
type dapStop struct {
	t      *starlark.Thread
	id     int // the thread's id
	top    int
	extra  starlark.StringDict // names the client's evaluations defined
	resume chan string         // step, next, finish, continue or quit
}

// ServeDAP waits on ln for one DAP client and serves it; it returns
// once the client has sent configurationDone (the run may start), or
// with an error when the client leaves before that or ctx ends. The
// client is served until it disconnects or the run ends (End).
func (d *Debugger) ServeDAP(ctx context.Context, ln net.Listener) error {
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	var conn net.Conn
	select {
	case <-ctx.Done():
		ln.Close()
		return ctx.Err()
	case c, ok := <-accepted:
		ln.Close() // one client
		if !ok {
			return errors.New("--dap: the listener failed")
		}
		conn = c
	}
	s := &dapServer{d: d, conn: conn, rd: bufio.NewReader(conn), configured: make(chan struct{}), gone: make(chan struct{})}
	d.dap, d.always = s, true
	go s.serve()
	select {
	case <-s.configured:
		return nil
	case <-s.gone:
		return errors.New("--dap: the client left before configurationDone")
	case <-ctx.Done():
		s.close()
		return ctx.Err()
	}
}

// End tells the client the run is over and closes the connection.
func (d *Debugger) End() {
	if s := d.dap; s != nil {
		s.send(&dap.TerminatedEvent{Event: s.event("terminated")})
		s.close()
	}
}

func (s *dapServer) close() {
	s.goneOnce.Do(func() {
		close(s.gone)
		s.conn.Close()
	})
}

func (s *dapServer) send(m dap.Message) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	switch m := m.(type) {
	case dap.ResponseMessage:
		m.GetResponse().Seq = s.seq
	case dap.EventMessage:
		m.GetEvent().Seq = s.seq
	}
	dap.WriteProtocolMessage(s.conn, m)
}

func (s *dapServer) event(name string) dap.Event {
	return dap.Event{ProtocolMessage: dap.ProtocolMessage{Type: "event"}, Event: name}
}

func response(r *dap.Request) dap.Response {
	return dap.Response{ProtocolMessage: dap.ProtocolMessage{Type: "response"}, RequestSeq: r.Seq, Command: r.Command, Success: true}
}

func (s *dapServer) fail(r *dap.Request, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	resp := response(r)
	resp.Success, resp.Message = false, msg
	s.send(&dap.ErrorResponse{Response: resp, Body: dap.ErrorResponseBody{Error: &dap.ErrorMessage{Format: msg, ShowUser: true}}})
}

// serve reads the client's requests until it is gone.
func (s *dapServer) serve() {
	defer s.close()
	for {
		m, err := dap.ReadProtocolMessage(s.rd)
		if err != nil {
			var decode *dap.DecodeProtocolMessageFieldError
			if errors.As(err, &decode) {
				continue // an unknown request: nothing to answer it with
			}
			return
		}
		if req, ok := m.(dap.RequestMessage); ok {
			if !s.handle(m, req.GetRequest()) {
				return
			}
		}
	}
}

// handle answers one request; false when the client is done.
func (s *dapServer) handle(m dap.Message, r *dap.Request) bool {
	switch m := m.(type) {
	case *dap.InitializeRequest:
		s.send(&dap.InitializeResponse{Response: response(r), Body: dap.Capabilities{
			SupportsConfigurationDoneRequest:  true,
			SupportsEvaluateForHovers:         true,
			SupportTerminateDebuggee:          true,
			SupportsTerminateRequest:          true,
			SupportsConditionalBreakpoints:    true,
			SupportsHitConditionalBreakpoints: true,
			SupportsLogPoints:                 true,
			SupportsSetVariable:               true,
		}})
		s.send(&dap.InitializedEvent{Event: s.event("initialized")})
	case *dap.LaunchRequest:
		s.send(&dap.LaunchResponse{Response: response(r)})
	case *dap.AttachRequest:
		s.send(&dap.AttachResponse{Response: response(r)})
	case *dap.SetBreakpointsRequest:
		s.setBreakpoints(r, &m.Arguments)
	case *dap.SetExceptionBreakpointsRequest:
		s.send(&dap.SetExceptionBreakpointsResponse{Response: response(r)})
	case *dap.ConfigurationDoneRequest:
		s.send(&dap.ConfigurationDoneResponse{Response: response(r)})
		select {
		case <-s.configured:
		default:
			close(s.configured)
		}
	case *dap.ThreadsRequest:
		var threads []dap.Thread
		for _, ts := range s.d.liveThreads() {
			threads = append(threads, dap.Thread{Id: ts.id, Name: ts.name})
		}
		if len(threads) == 0 {
			threads = []dap.Thread{{Id: 1, Name: "main"}}
		}
		s.send(&dap.ThreadsResponse{Response: response(r), Body: dap.ThreadsResponseBody{Threads: threads}})
	case *dap.PauseRequest:
		s.pause(r, m.Arguments.ThreadId)
	case *dap.SetVariableRequest:
		s.setVariable(r, &m.Arguments)
	case *dap.StackTraceRequest:
		s.stackTrace(r, &m.Arguments)
	case *dap.ScopesRequest:
		_, sel, ok := s.frame(r, m.Arguments.FrameId)
		if !ok {
			return true
		}
		s.send(&dap.ScopesResponse{Response: response(r), Body: dap.ScopesResponseBody{Scopes: []dap.Scope{
			{Name: "Locals", PresentationHint: "locals", VariablesReference: sel + 1},
		}}})
	case *dap.VariablesRequest:
		st, sel, ok := s.frame(r, m.Arguments.VariablesReference)
		if !ok {
			return true
		}
		names, vals := s.d.frameVars(st.t, sel)
		vars := make([]dap.Variable, len(names))
		for i, n := range names {
			vars[i] = dap.Variable{Name: n, Value: s.d.in.State().Log.Scrub(vals[i].String()), Type: vals[i].Type(), EvaluateName: n}
		}
		s.send(&dap.VariablesResponse{Response: response(r), Body: dap.VariablesResponseBody{Variables: vars}})
	case *dap.EvaluateRequest:
		s.evaluate(r, &m.Arguments)
	case *dap.SourceRequest:
		s.source(r, &m.Arguments)
	case *dap.ContinueRequest:
		if s.resume(r, m.Arguments.ThreadId, "continue") {
			s.send(&dap.ContinueResponse{Response: response(r)})
		}
	case *dap.NextRequest:
		if s.resume(r, m.Arguments.ThreadId, "next") {
			s.send(&dap.NextResponse{Response: response(r)})
		}
	case *dap.StepInRequest:
		if s.resume(r, m.Arguments.ThreadId, "step") {
			s.send(&dap.StepInResponse{Response: response(r)})
		}
	case *dap.StepOutRequest:
		if s.resume(r, m.Arguments.ThreadId, "finish") {
			s.send(&dap.StepOutResponse{Response: response(r)})
		}
	case *dap.TerminateRequest:
		s.send(&dap.TerminateResponse{Response: response(r)})
		s.quit()
	case *dap.DisconnectRequest:
		s.send(&dap.DisconnectResponse{Response: response(r)})
		if m.Arguments != nil && m.Arguments.TerminateDebuggee {
			s.quit()
		} else {
			s.d.setBreaks(func([]*breakLine) []*breakLine { return nil })
		}
		return false
	default:
		s.fail(r, "%s is not supported by kamal's debugger", r.Command)
	}
	return true
}

// quit ends the run from the current stop, or at once when none.
func (s *dapServer) quit() {
	if st := s.current(); st != nil {
		select {
		case st.resume <- "quit":
		default:
		}
		return
	}
	s.d.quitting.Store(true)
	s.d.quit()
}

func (s *dapServer) current() *dapStop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stop
}

// frame returns the current stop and the frame index that ref (a frame
// id or a variables reference: index+1) names, or answers the request
// with an error.
func (s *dapServer) frame(r *dap.Request, ref int) (*dapStop, int, bool) {
	st := s.current()
	if st == nil {
		s.fail(r, "no thread is stopped")
		return nil, 0, false
	}
	sel := ref - 1
	if ref == 0 {
		sel = st.top
	}
	if sel < st.top || sel >= st.t.CallStackDepth() {
		s.fail(r, "no frame %d", ref)
		return nil, 0, false
	}
	return st, sel, true
}

// resume lets the stopped thread id go on, or answers with an error.
func (s *dapServer) resume(r *dap.Request, id int, command string) bool {
	st := s.current()
	if st == nil || st.id != id {
		s.fail(r, "thread %d is not stopped", id)
		return false
	}
	select {
	case st.resume <- command:
		return true
	default:
		s.fail(r, "thread %d is already going on", id)
		return false
	}
}

// threadEvent tells the client a thread started or exited.
func (s *dapServer) threadEvent(reason string, id int) {
	s.send(&dap.ThreadEvent{Event: s.event("thread"), Body: dap.ThreadEventBody{Reason: reason, ThreadId: id}})
}

// output sends a logpoint's message, placed at its breakpoint's line.
func (s *dapServer) output(t *starlark.Thread, b *breakLine, msg string) {
	s.send(&dap.OutputEvent{Event: s.event("output"), Body: dap.OutputEventBody{
		Category: "console", Output: msg + "\n", Source: s.sourceOf(b.label), Line: b.start,
	}})
}

// pause asks running thread id to stop at its next statement (a thread
// waiting for a command stops once the command returns).
func (s *dapServer) pause(r *dap.Request, id int) {
	for _, ts := range s.d.liveThreads() {
		if ts.id == id {
			ts.pause.Store(true)
			s.send(&dap.PauseResponse{Response: response(r)})
			return
		}
	}
	s.fail(r, "no thread %d", id)
}

// stopped is a stop of t under the client: it tells the client and
// waits until the client lets t go on (or leaves: then t goes on).
func (s *dapServer) stopped(t *starlark.Thread, top int, reason string) error {
	select {
	case <-s.gone:
		return nil
	default:
	}
	ts := s.d.state(t)
	st := &dapStop{t: t, id: ts.id, top: top, extra: starlark.StringDict{}, resume: make(chan string, 1)}
	s.mu.Lock()
	s.stop = st
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stop = nil
		s.mu.Unlock()
	}()
	body := dap.StoppedEventBody{ThreadId: st.id, Reason: "step", Description: reason}
	switch {
	case strings.HasPrefix(reason, "breakpoint "):
		body.Reason = "breakpoint"
		var id int
		fmt.Sscanf(reason, "breakpoint %d", &id)
		body.HitBreakpointIds = []int{id}
	case reason == "breakpoint()":
		body.Reason = "breakpoint"
	case reason == "pause":
		body.Reason = "pause"
	}
	s.send(&dap.StoppedEvent{Event: s.event("stopped"), Body: body})
	ctx := builtins.Context(t)
	select {
	case command := <-st.resume:
		if command == "quit" {
			return s.d.quitRun(t)
		}
		s.d.resume(t, top, command)
	case <-s.gone:
		s.d.resume(t, top, "continue")
	case <-ctx.Done():
	}
	return nil
}

// setBreakpoints replaces the breakpoints of one source with those the
// client asks for, each moved to the statement at or after its line.
func (s *dapServer) setBreakpoints(r *dap.Request, a *dap.SetBreakpointsArguments) {
	file := a.Source.Path
	if a.Source.SourceReference > 0 {
		file = s.sourceLabel(a.Source.SourceReference)
	}
	asked := a.Breakpoints
	if len(asked) == 0 {
		for _, l := range a.Lines {
			asked = append(asked, dap.SourceBreakpoint{Line: l})
		}
	}
	var added []*breakLine
	out := make([]dap.Breakpoint, len(asked))
	label := ""
	for i, sb := range asked {
		b, err := s.d.newBreak(breakSpec{file: file, line: sb.Line, cond: sb.Condition, hitCond: sb.HitCondition}, sb.LogMessage)
		if err != nil {
			out[i] = dap.Breakpoint{Verified: false, Message: err.Error(), Line: sb.Line}
			continue
		}
		label = b.label
		added = append(added, b)
	}
	if label == "" {
		if b, err := s.d.resolveBreak(file, 1); err == nil {
			label = b.label
		} else {
			label = filepath.Clean(file)
		}
	}
	s.d.setBreaks(func(old []*breakLine) []*breakLine {
		keep := old[:0]
		for _, b := range old {
			if b.label != label {
				keep = append(keep, b)
			}
		}
		return append(keep, added...)
	})
	j := 0
	for i := range out {
		if out[i].Message != "" {
			continue
		}
		b := added[j]
		j++
		out[i] = dap.Breakpoint{Id: b.id, Verified: true, Line: b.start, Source: s.sourceOf(b.label)}
	}
	s.send(&dap.SetBreakpointsResponse{Response: response(r), Body: dap.SetBreakpointsResponseBody{Breakpoints: out}})
}

// sourceOf is how the client sees the file label: a path, or a
// reference to the source request for the built-in scripts.
func (s *dapServer) sourceOf(label string) *dap.Source {
	if strings.HasPrefix(label, "@") {
		return &dap.Source{Name: label, SourceReference: s.sourceRef(label), Origin: "built into kamal"}
	}
	return &dap.Source{Name: filepath.Base(label), Path: label}
}

// builtinLabels are the loaded @kamal// labels, sorted: reference i+1 is
// builtinLabels()[i].
func (s *dapServer) builtinLabels() []string {
	var out []string
	for _, label := range s.d.in.Labels() {
		if strings.HasPrefix(label, "@") {
			out = append(out, label)
		}
	}
	sort.Strings(out)
	return out
}

func (s *dapServer) sourceRef(label string) int {
	for i, l := range s.builtinLabels() {
		if l == label {
			return i + 1
		}
	}
	return 0
}

func (s *dapServer) sourceLabel(ref int) string {
	if labels := s.builtinLabels(); ref >= 1 && ref <= len(labels) {
		return labels[ref-1]
	}
	return ""
}

func (s *dapServer) source(r *dap.Request, a *dap.SourceArguments) {
	ref := a.SourceReference
	if a.Source != nil && a.Source.SourceReference > 0 {
		ref = a.Source.SourceReference
	}
	label := s.sourceLabel(ref)
	src, ok := s.d.in.Source(label)
	if !ok {
		s.fail(r, "no source %d", ref)
		return
	}
	s.send(&dap.SourceResponse{Response: response(r), Body: dap.SourceResponseBody{Content: string(src), MimeType: "text/x-python"}})
}

func (s *dapServer) stackTrace(r *dap.Request, a *dap.StackTraceArguments) {
	st := s.current()
	if st == nil || st.id != a.ThreadId {
		s.fail(r, "thread %d is not stopped", a.ThreadId)
		return
	}
	var frames []dap.StackFrame
	for i := st.top; i < st.t.CallStackDepth(); i++ {
		fr := st.t.DebugFrame(i)
		sf := dap.StackFrame{Id: i + 1, Name: fr.Callable().Name()}
		if _, ok := fr.Callable().(*starlark.Function); ok {
			pos := fr.Position()
			sf.Source, sf.Line, sf.Column = s.sourceOf(pos.Filename()), int(pos.Line), int(pos.Col)
		} else {
			sf.PresentationHint = "subtle" // a builtin such as on() or lock.around
		}
		frames = append(frames, sf)
	}
	total := len(frames)
	if a.StartFrame > 0 && a.StartFrame <= len(frames) {
		frames = frames[a.StartFrame:]
	}
	if a.Levels > 0 && a.Levels < len(frames) {
		frames = frames[:a.Levels]
	}
	s.send(&dap.StackTraceResponse{Response: response(r), Body: dap.StackTraceResponseBody{StackFrames: frames, TotalFrames: total}})
}

// evaluate runs an expression or statement in a frame's scope, as the
// prompt does (assignments to the frame's variables are refused the
// same way).
func (s *dapServer) evaluate(r *dap.Request, a *dap.EvaluateArguments) {
	st, sel, ok := s.frame(r, a.FrameId)
	if !ok {
		return
	}
	scope := starlark.StringDict{}
	for k, v := range s.d.scope(st.t, sel) {
		scope[k] = v
	}
	for k, v := range st.extra {
		scope[k] = v
	}
	var out strings.Builder
	s.d.eval(&captureReader{out: &out}, st.t, sel, scope, st.extra, a.Expression)
	s.send(&dap.EvaluateResponse{Response: response(r), Body: dap.EvaluateResponseBody{Result: strings.TrimSuffix(out.String(), "\n")}})
}

// captureReader collects what an evaluation prints; a statement that
// needs more lines gets none.
type captureReader struct{ out *strings.Builder }

func (c *captureReader) ReadLine(string) (string, error) { return "", io.EOF }
func (c *captureReader) Print(s string)                  { c.out.WriteString(s) }
func (c *captureReader) Running(func())                  {}

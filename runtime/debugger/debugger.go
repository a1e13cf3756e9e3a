// Package debugger stops the threads of a run (breakpoint(), --break,
// stepping) at a prompt (runtime/repl's line reading) or for an editor
// over the Debug Adapter Protocol (--dap).
package debugger

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/builtins"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/repl"
)

// The debugger.
//
// A run stops at a breakpoint() call or at a line given with --break
// FILE:LINE, and opens a prompt where the user steps (step, next, finish),
// looks around (where, up, down, locals, any expression) and goes on
// (continue) or ends the run (quit).
//
// Stepping needs no change to the interpreter: go.starlark.net calls a
// thread's OnMaxSteps once its step counter reaches the limit, so a
// debugged thread sets the limit to one more step each time and, at every
// instruction, compares the position of the frame on top of its call stack
// with the line it saw last at that depth. A change of line is where a
// stepping thread, or a breakpoint, stops. Threads not stepping and with no
// --break given are not hooked at all, so breakpoint() alone costs
// nothing until it stops.
//
// The compiler records positions only at operations that can fail, so
// every statement gets a mark (statements.go): an instruction at the
// statement's first token, run before anything else of it. The position
// seen is that of the instruction just run (the interpreter sets a
// frame's pc after calling OnMaxSteps), so a thread stops when it has just
// run a mark on a new line: before the first thing its statement does,
// including a line that only assigns a constant. The other lines of a
// statement spread over several lines are no stops.
//
// Stops are serialized: while one thread is at the prompt, others that
// reach a stop wait for their turn; each prompt names the host of its
// thread (the threads of on(hosts, fn)). A thread at the prompt gives up
// the run's Starlark lock (see builtins.Blocking), so the other hosts run
// on meanwhile; the prompt's own statements hold it while they run.

// Debugger stops the threads of one run. It is safe for concurrent use by
// the run's threads.
type Debugger struct {
	in     *interp.Interp
	prompt repl.Prompt
	quit   func()

	breaks      atomic.Pointer[[]*breakLine] // read by running threads; see setBreaks
	breakMu     sync.Mutex                   // serializes setBreaks
	lastBreak   int                          // the last breakpoint number given
	always      bool                         // hook every thread (a DAP client may add breakpoints at any time)
	dap         *dapServer                   // nil: stops open the prompt
	hostThreads atomic.Int64                 // on() threads numbered so far
	threads     sync.Map                     // id -> *threadDebug of every live thread (DAP's threads)

	mu       sync.Mutex // held by the thread at the prompt
	quitting atomic.Bool
	greeted  bool // the first stop said how to get help
}

// breakLine is one --break: the statement starting at or after the line
// asked for, in the function (or top level) that holds it.
type breakLine struct {
	id     int
	label  string // as threads report it: @kamal//x.star or an absolute path
	shown  string // as the user gave it
	start  int    // the statement's first line
	fnLine int    // line of the enclosing def or lambda; 0 at top level

	cond       string             // stop only when this holds in the frame ("": always)
	hitCond    string             // as given: "3" (#3), or DAP's ">3", "%2"...
	hitOK      func(n int64) bool // nil: every hit stops
	logMessage string             // a DAP logpoint: print this, never stop
	hits       atomic.Int64       // runs of the statement for which cond held
}

// debugKey is the thread-local key of a thread's *threadDebug.
const debugKey = "kamal.debug"

type stepMode int

const (
	modeRun    stepMode = iota // only breakpoints stop
	modeStep                   // stop at the next line, anywhere
	modeNext                   // stop at the next line at depth <= depth
	modeFinish                 // stop at the next line at depth < depth
)

// threadDebug is a thread's stepping state, touched only by its thread.
type threadDebug struct {
	id     int // as a DAP client knows it: 1 the main thread, then on()'s in order
	mode   stepMode
	depth  int
	lines  []int32 // last line seen per call depth (index depth-1); 0 none, -1 a new frame
	hooked bool
	name   string      // "main", or the host of an on() thread
	pause  atomic.Bool // a DAP client asked it to stop at its next statement
}

// New makes breakpoint() and --break stop the threads of in's run at a
// prompt on p. quit ends the run as an interrupt does; it is called once.
func New(in *interp.Interp, p repl.Prompt, quit func()) *Debugger {
	d := &Debugger{in: in, prompt: p, quit: quit}
	in.SetDebugger(d)
	return d
}

// Break adds a breakpoint at spec, FILE:LINE with FILE as scripts show it
// (@kamal//build.star, or a path relative to the app such as
// .kamal/scripts/build.star). The file must be loaded; the line is moved
// to the first statement that starts there or later.
//
// FILE:LINE#N stops at the Nth hit only, and 'FILE:LINE if EXPR' only
// when EXPR, evaluated in the frame, is true (conditions.go).
func (d *Debugger) Break(spec string) error {
	bs, err := parseBreakSpec(spec)
	if err != nil {
		return fmt.Errorf("--break %w", err)
	}
	b, err := d.newBreak(bs, "")
	if err != nil {
		return fmt.Errorf("--break %s: %w", spec, err)
	}
	d.setBreaks(func(old []*breakLine) []*breakLine { return append(old, b) })
	return nil
}

// resolveBreak finds the statement at or after line in the loaded script
// file (as Break takes it, or an absolute path).
func (d *Debugger) resolveBreak(file string, line int) (*breakLine, error) {
	label := file
	if !strings.HasPrefix(file, "@") {
		if !filepath.IsAbs(label) {
			label = filepath.Join(d.in.Root(), file)
		}
		label = filepath.Clean(label)
	}
	src, ok := d.in.Source(label)
	if !ok {
		return nil, fmt.Errorf("%s is not a loaded script (loaded: %s)", file, strings.Join(d.in.LoadedFiles(), ", "))
	}
	opts := interp.FileOptions()
	f, err := opts.Parse(label, src, 0)
	if err != nil {
		return nil, err
	}
	b := &breakLine{label: label, shown: file}
	if !findStatement(f.Stmts, line, 0, b) {
		return nil, fmt.Errorf("no statement at or after line %d", line)
	}
	return b, nil
}

// setBreaks replaces the breakpoints with change(current) (running
// threads read them meanwhile) and numbers the new ones.
func (d *Debugger) setBreaks(change func([]*breakLine) []*breakLine) {
	d.breakMu.Lock()
	defer d.breakMu.Unlock()
	var cur []*breakLine
	if p := d.breaks.Load(); p != nil {
		cur = *p
	}
	next := change(append([]*breakLine(nil), cur...))
	for _, b := range next {
		if b.id == 0 {
			d.lastBreak++
			b.id = d.lastBreak
		}
	}
	d.breaks.Store(&next)
}

// breakList is the breakpoints now.
func (d *Debugger) breakList() []*breakLine {
	if p := d.breaks.Load(); p != nil {
		return *p
	}
	return nil
}

// findStatement sets b to the first statement of stmts (or nested in
// them) that starts at line or later, and reports whether there is one.
// A def is not a place to stop: its body is.
func findStatement(stmts []syntax.Stmt, line int, fnLine int, b *breakLine) bool {
	for i, s := range stmts {
		start, end := s.Span()
		if int(end.Line) < line || i == 0 && interp.IsDocstring(s) {
			continue // a docstring runs nothing and has no mark (statements.go)
		}
		var inner [][]syntax.Stmt
		switch s := s.(type) {
		case *syntax.DefStmt:
			if findStatement(s.Body, line, int(s.Def.Line), b) {
				return true
			}
			continue
		case *syntax.IfStmt:
			inner = [][]syntax.Stmt{s.True, s.False}
		case *syntax.ForStmt:
			inner = [][]syntax.Stmt{s.Body}
		case *syntax.WhileStmt:
			inner = [][]syntax.Stmt{s.Body}
		}
		if int(start.Line) >= line {
			b.start, b.fnLine = int(start.Line), fnLine
			return true
		}
		for _, body := range inner {
			if findStatement(body, line, fnLine, b) {
				return true
			}
		}
	}
	return false
}

// Attach prepares a thread of the run to stop: a main thread (parent nil)
// or one that on() started for parent. A child of a stepping thread steps
// too, so that `step` over on() goes into fn on each host.
func (d *Debugger) Attach(parent, child *starlark.Thread) {
	ts := d.state(child)
	if parent != nil {
		if p, ok := parent.Local(debugKey).(*threadDebug); ok && p.mode == modeStep {
			ts.mode = modeStep
		}
	}
	if d.always || len(d.breakList()) > 0 || ts.mode != modeRun {
		d.hook(child, ts)
	}
}

func (d *Debugger) state(t *starlark.Thread) *threadDebug {
	ts, ok := t.Local(debugKey).(*threadDebug)
	if !ok {
		ts = &threadDebug{id: 1, name: "main"} // the run's main thread
		if h, ok := strings.CutPrefix(t.Name, "on "); ok {
			ts.id, ts.name = int(d.hostThreads.Add(1))+1, h
		}
		t.SetLocal(debugKey, ts)
		d.threads.Store(ts.id, ts)
		if s := d.dap; s != nil {
			s.threadEvent("started", ts.id)
		}
	}
	return ts
}

// Detach forgets a thread that on() started once it has finished.
func (d *Debugger) Detach(t *starlark.Thread) {
	ts, ok := t.Local(debugKey).(*threadDebug)
	if !ok {
		return
	}
	d.threads.Delete(ts.id)
	if s := d.dap; s != nil {
		s.threadEvent("exited", ts.id)
	}
}

// liveThreads are the threads of the run that have not finished, by id.
func (d *Debugger) liveThreads() []*threadDebug {
	var out []*threadDebug
	d.threads.Range(func(_, v any) bool {
		out = append(out, v.(*threadDebug))
		return true
	})
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// hook makes t call onStep before each instruction. The lines already on
// t's stack count as seen, so that resuming on the same line is no stop.
func (d *Debugger) hook(t *starlark.Thread, ts *threadDebug) {
	if !ts.hooked {
		ts.hooked = true
		stack := t.CallStack()
		ts.lines = ts.lines[:0]
		for _, fr := range stack {
			ts.lines = append(ts.lines, fr.Pos.Line)
		}
	}
	t.OnMaxSteps = d.onStep
	t.SetMaxExecutionSteps(t.ExecutionSteps() + 1)
}

func (d *Debugger) unhook(t *starlark.Thread, ts *threadDebug) {
	ts.hooked = false
	t.OnMaxSteps = nil
	t.SetMaxExecutionSteps(math.MaxUint64)
}

// onStep runs before every instruction of a hooked thread.
func (d *Debugger) onStep(t *starlark.Thread) {
	t.SetMaxExecutionSteps(t.ExecutionSteps() + 1)
	if d.quitting.Load() {
		return
	}
	ts := d.state(t)
	depth := t.CallStackDepth()
	if depth > len(ts.lines) {
		for len(ts.lines) < depth-1 {
			ts.lines = append(ts.lines, 0) // builtins in between
		}
		ts.lines = append(ts.lines, -1) // a new frame: its pc is not set yet
		return
	}
	ts.lines = ts.lines[:depth]
	fr := t.DebugFrame(0)
	fn, ok := fr.Callable().(*starlark.Function)
	if !ok {
		return
	}
	pos := fr.Position()
	if ts.mode == modeFinish && depth < ts.depth {
		// Back in the caller, on the line of the call (whose result is
		// not stored yet).
		ts.lines[depth-1] = pos.Line
		d.stop(t, 0, "returned")
		return
	}
	prev := ts.lines[depth-1]
	if pos.Line == prev || pos.Line <= 0 {
		return
	}
	ts.lines[depth-1] = pos.Line
	if !d.in.StatementAt(pos) {
		return // inside a statement that started on another line
	}
	reason := ""
	switch {
	case ts.mode == modeStep,
		ts.mode == modeNext && depth <= ts.depth,
		ts.mode == modeFinish && depth < ts.depth:
		reason = ""
	default:
		b := d.breakAt(fn, pos)
		if b == nil {
			if ts.pause.Swap(false) {
				d.stop(t, 0, "pause")
			}
			return
		}
		stop := false
		if stop, reason = d.hit(t, b); !stop {
			if ts.pause.Swap(false) {
				d.stop(t, 0, "pause")
			}
			return
		}
	}
	ts.pause.Store(false)
	d.stop(t, 0, reason)
}

// breakAt returns the breakpoint on the statement that starts at pos in
// fn, if any.
func (d *Debugger) breakAt(fn *starlark.Function, pos syntax.Position) *breakLine {
	for _, b := range d.breakList() {
		if b.label != pos.Filename() || int(pos.Line) != b.start {
			continue
		}
		fnLine := int(fn.Position().Line)
		if fn.Name() == "<toplevel>" {
			fnLine = 0
		}
		if fnLine == b.fnLine {
			return b
		}
	}
	return nil
}

// Breakpoint stops thread where the script called breakpoint().
func (d *Debugger) Breakpoint(t *starlark.Thread) error {
	if t.CallStackDepth() < 2 {
		return nil
	}
	return d.stop(t, 1, "breakpoint()")
}

var errQuit = errors.New("quit at the debugger's prompt")

// stop opens the prompt for t, once no other thread is at it. top is the
// frame to show (1 when a builtin is on top of the stack).
func (d *Debugger) stop(t *starlark.Thread, top int, reason string) error {
	var err error
	builtins.Blocking(t, func() {
		// A prompt is a wait: never while t holds the Starlark lock.
		if err = executor.Refuse(builtins.Context(t), "a prompt"); err != nil {
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.quitting.Load() || builtins.Context(t).Err() != nil {
			return
		}
		if d.dap != nil {
			err = d.dap.stopped(t, top, reason)
			return
		}
		err = d.session(t, top, reason)
	})
	return err
}

const debugHelp = `Commands at a stop:
  step       run to the next line, going into calls (and into on()'s hosts)
  next       run to the next line of this function, or of its caller once it returns
  finish     run until this function returns
  continue   run on to the next breakpoint (also Ctrl-D)
  where      the call stack, outermost first; > marks the frame in scope
  up, down   move to the calling / the called frame
  locals     the frame's variables and their values (dir() lists their names)
  break FILE:LINE [if EXPR]   stop there (only when EXPR holds in the frame);
             FILE:LINE#N stops at the Nth time only; FILE as scripts show it
  breakpoints                 the breakpoints, with their hits so far
  clear [N]  remove breakpoint N, or all of them
  help       this text
  quit       end the run as Ctrl-C does: running commands stop, the deploy lock is released
Anything else is Starlark, run in the frame's scope (!EXPR for a name that
is also a command). A frame's variables cannot be assigned (go.starlark.net
has no way to change them), nor the scripts' globals and the builtins:
change their contents (x.append(...)) or use a new name, which lasts until
the run goes on.
`

// session is the prompt of one stop.
func (d *Debugger) session(t *starlark.Thread, top int, reason string) error {
	ts := d.state(t)
	label := ""
	if h, ok := strings.CutPrefix(t.Name, "on "); ok {
		label = "[" + h + "] "
	}
	sel := top
	extra := starlark.StringDict{} // names the prompt defined
	scope := starlark.StringDict{}
	fill := func() {
		clear(scope)
		for k, v := range d.scope(t, sel) {
			scope[k] = v
		}
		for k, v := range extra {
			scope[k] = v
		}
	}
	fill()
	rd, done, err := d.reader(scope)
	if err != nil {
		return err
	}
	defer done()

	head := label + "stopped at " + d.where(t, sel)
	if reason != "" {
		head += " (" + reason + ")"
	}
	if !d.greeted {
		d.greeted = true
		head += "\n" + label + "help lists the commands; continue or Ctrl-D goes on, quit ends the run"
	}
	source := func() string { // the frame's line, labelled too: other hosts' lines come in between
		if l := d.sourceLine(t, sel); l != "" {
			return label + l
		}
		return ""
	}
	rd.Print(head + "\n" + source())
	prompt := label + "(debug) "
	// A signal while the prompt waits ends the run as quit does: the
	// prompt must not hold it up (in raw mode Ctrl-C is a key, not this).
	ctx := builtins.Context(t)
	if tr, ok := rd.(*repl.TermReader); ok {
		defer context.AfterFunc(ctx, tr.Abort)()
	}
	for {
		line, err := rd.ReadLine(prompt)
		if ctx.Err() != nil {
			if tr, ok := rd.(*repl.TermReader); ok {
				tr.EndLine()
			}
			rd.Print(label + "interrupted: stopping the run\n")
			t.Cancel(ctx.Err().Error()) // now: the run's own watcher may come later
			return nil
		}
		if errors.Is(err, repl.ErrInterrupt) {
			rd.Print("KeyboardInterrupt (quit ends the run, continue goes on)\n")
			continue
		}
		if errors.Is(err, repl.ErrLineTooLong) {
			rd.Print(err.Error() + "\n")
			continue
		}
		if err != nil { // the end of input: go on, as Ctrl-D
			if tr, ok := rd.(*repl.TermReader); ok {
				tr.EndLine()
			}
			ts.mode = modeRun
			d.settle(t, ts)
			return nil
		}
		word := strings.TrimSpace(line)
		if out, ok := d.promptBreak(word); ok {
			rd.Print(out)
			continue
		}
		switch word {
		case "":
			continue
		case "step", "next", "finish", "continue", "cont":
			d.resume(t, top, word)
			return nil
		case "where", "bt":
			rd.Print(d.stack(t, sel))
		case "up", "down":
			next := sel + 1
			if word == "down" {
				next = sel - 1
			}
			if next < top || next >= t.CallStackDepth() {
				rd.Print("no frame " + map[string]string{"up": "above", "down": "below"}[word] + " this one\n")
				continue
			}
			sel = next
			fill()
			rd.Print(label + d.where(t, sel) + "\n" + source())
		case "locals":
			rd.Print(d.locals(t, sel))
		case "help":
			rd.Print(debugHelp)
		case "quit":
			rd.Print("quitting: stopping the run\n")
			return d.quitRun(t)
		default:
			src := strings.TrimPrefix(line, "!")
			d.eval(rd, t, sel, scope, extra, src)
		}
	}
}

// resume lets stopped thread t (its frame top the one stopped) go on as
// command says: step, next, finish or continue.
func (d *Debugger) resume(t *starlark.Thread, top int, command string) {
	ts := d.state(t)
	switch command {
	case "step":
		ts.mode = modeStep
		d.hook(t, ts)
	case "next", "finish":
		ts.mode, ts.depth = modeNext, t.CallStackDepth()-top
		if command == "finish" {
			ts.mode = modeFinish
		}
		d.hook(t, ts)
	default:
		ts.mode = modeRun
		d.settle(t, ts)
	}
}

// quitRun ends the run from a stop of t as an interrupt does.
func (d *Debugger) quitRun(t *starlark.Thread) error {
	d.quitting.Store(true)
	t.Cancel("quit at the debugger's prompt")
	d.quit()
	return errQuit
}

// settle unhooks a thread that has nothing left to stop at, and hooks one
// that has (a breakpoint set at a prompt opened by breakpoint()).
func (d *Debugger) settle(t *starlark.Thread, ts *threadDebug) {
	if !d.always && len(d.breakList()) == 0 {
		d.unhook(t, ts)
		return
	}
	d.hook(t, ts)
}

// reader opens the prompt's input: a line editor on a terminal, plain
// lines otherwise.
func (d *Debugger) reader(scope starlark.StringDict) (repl.LineReader, func(), error) {
	return repl.Open(d.prompt, scope)
}

// where is frame sel of t as "FILE:LINE in FUNCTION".
func (d *Debugger) where(t *starlark.Thread, sel int) string {
	fr := t.DebugFrame(sel)
	pos := fr.Position()
	return fmt.Sprintf("%s:%d in %s", d.in.Shown(pos.Filename()), pos.Line, fr.Callable().Name())
}

// sourceLine is the line of frame sel, numbered, or "" when its source is
// not at hand.
func (d *Debugger) sourceLine(t *starlark.Thread, sel int) string {
	pos := t.DebugFrame(sel).Position()
	src, ok := d.in.Source(pos.Filename())
	if !ok {
		return ""
	}
	lines := strings.Split(string(src), "\n")
	if n := int(pos.Line); n >= 1 && n <= len(lines) {
		return fmt.Sprintf("%5d  %s\n", n, lines[n-1])
	}
	return ""
}

func (d *Debugger) stack(t *starlark.Thread, sel int) string {
	var b strings.Builder
	n := t.CallStackDepth()
	for i := n - 1; i >= 0; i-- {
		mark := "  "
		if i == sel {
			mark = "> "
		}
		fr := t.DebugFrame(i)
		if _, ok := fr.Callable().(*starlark.Function); !ok {
			fmt.Fprintf(&b, "%s<builtin> in %s\n", mark, fr.Callable().Name())
			continue
		}
		b.WriteString(mark + d.where(t, i) + "\n")
	}
	return b.String()
}

// frameVars are the variables of frame sel in the order the function
// binds them: its locals that have a value, then its free variables.
func (d *Debugger) frameVars(t *starlark.Thread, sel int) (names []string, vals []starlark.Value) {
	fr := t.DebugFrame(sel)
	fn, ok := fr.Callable().(*starlark.Function)
	if !ok {
		return nil, nil
	}
	for i := 0; i < fr.NumLocals(); i++ {
		b, v := fr.Local(i)
		if v == nil {
			continue
		}
		if v.Type() == "cell" {
			// A local a nested function captures is held in a cell the
			// debug API does not open; the function's free variables do.
			if v = capturedValue(fr, b.Name); v == nil {
				v = unreadable{}
			}
		}
		names, vals = append(names, b.Name), append(vals, v)
	}
	for i := 0; i < fn.NumFreeVars(); i++ {
		b, v := fn.FreeVar(i)
		if v != nil {
			names, vals = append(names, b.Name), append(vals, v)
		}
	}
	return names, vals
}

// unreadable stands for a variable the debug API cannot read.
type unreadable struct{}

func (unreadable) String() string        { return "<captured by a closure not made yet: unreadable here>" }
func (unreadable) Type() string          { return "unreadable" }
func (unreadable) Freeze()               {}
func (unreadable) Truth() starlark.Bool  { return false }
func (unreadable) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: unreadable") }

// capturedValue finds the value of local name, held in a cell, through a
// function among fr's locals that captures it.
func capturedValue(fr starlark.DebugFrame, name string) starlark.Value {
	for i := 0; i < fr.NumLocals(); i++ {
		_, v := fr.Local(i)
		fn, ok := v.(*starlark.Function)
		if !ok {
			continue
		}
		for j := 0; j < fn.NumFreeVars(); j++ {
			if b, fv := fn.FreeVar(j); b.Name == name && fv != nil {
				return fv
			}
		}
	}
	return nil
}

func (d *Debugger) locals(t *starlark.Thread, sel int) string {
	names, vals := d.frameVars(t, sel)
	if len(names) == 0 {
		return "(no variables)\n"
	}
	var b strings.Builder
	for i, n := range names {
		fmt.Fprintf(&b, "%s = %s\n", n, d.in.State().Log.Scrub(vals[i].String()))
	}
	return b.String()
}

// scope is what a statement at the prompt sees: the builtins, the
// effective functions, the frame's module globals and its variables, and
// dir() listing the variables.
func (d *Debugger) scope(t *starlark.Thread, sel int) starlark.StringDict {
	g := d.in.Globals()
	if fn, ok := t.DebugFrame(sel).Callable().(*starlark.Function); ok {
		for k, v := range fn.Globals() {
			g[k] = v
		}
	}
	names, vals := d.frameVars(t, sel)
	for i, n := range names {
		g[n] = vals[i]
	}
	universalDir := starlark.Universe["dir"].(*starlark.Builtin)
	g["dir"] = starlark.NewBuiltin("dir", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 0 && len(kwargs) == 0 {
			sorted := append([]string(nil), names...)
			sort.Strings(sorted)
			l := make([]starlark.Value, len(sorted))
			for i, n := range sorted {
				l[i] = starlark.String(n)
			}
			return starlark.NewList(l), nil
		}
		return starlark.Call(th, universalDir, args, kwargs)
	})
	return g
}

// eval runs one statement (reading more lines for a compound one) in
// scope, on its own thread that holds the run's Starlark lock when the
// stopped thread did. Names it binds that are the frame's variables are
// refused before anything runs; new names go to extra.
func (d *Debugger) eval(rd repl.LineReader, t *starlark.Thread, sel int, scope, extra starlark.StringDict, line string) {
	opts := interp.FileOptions()
	opts.LoadBindsGlobally = true
	first := true
	readline := func() ([]byte, error) {
		if first {
			first = false
			return []byte(line + "\n"), nil
		}
		l, err := rd.ReadLine("... ")
		if err != nil {
			return nil, err
		}
		return []byte(l + "\n"), nil
	}
	f, err := opts.ParseCompoundStmt("<debug>", readline)
	if err != nil {
		rd.Print(err.Error() + "\n")
		return
	}
	if msg := d.refuseAssignments(f, t, sel, scope, extra); msg != "" {
		rd.Print(msg + "\n")
		return
	}

	ctx, cancel := context.WithCancel(builtins.Context(t))
	defer cancel()
	et := d.in.Thread(ctx, t.Name)
	release := builtins.HoldLike(t, et)
	defer release()
	go func() {
		<-ctx.Done()
		et.Cancel("interrupted")
	}()
	rd.Running(cancel)
	defer rd.Running(nil)

	before := map[string]starlark.Value{}
	for k, v := range scope {
		before[k] = v
	}
	if expr := repl.SoleExpr(f); expr != nil {
		v, err := starlark.EvalExprOptions(f.Options, et, expr, scope)
		if err != nil {
			rd.Print(d.in.State().Log.Scrub(interp.ErrorText(d.in.HintUndefined(err, scope.Keys()))) + "\n")
			return
		}
		if v != starlark.None {
			rd.Print(d.in.State().Log.Scrub(v.String()) + "\n")
		}
		return
	}
	if err := starlark.ExecREPLChunk(f, et, scope); err != nil {
		rd.Print(d.in.State().Log.Scrub(interp.ErrorText(d.in.HintUndefined(err, scope.Keys()))) + "\n")
	}
	for k, v := range scope {
		if before[k] != v {
			extra[k] = v
		}
	}
}

// refuseAssignments says why the statements of f may not run when they
// bind a name the stopped code sees ("" when they bind none): rebinding
// it at the prompt would change nothing the run uses, so nothing runs.
// Names the prompt itself defined (extra) may be bound again.
func (d *Debugger) refuseAssignments(f *syntax.File, t *starlark.Thread, sel int, scope, extra starlark.StringDict) string {
	vars, _ := d.frameVars(t, sel)
	isVar := map[string]bool{}
	for _, v := range vars {
		isVar[v] = true
	}
	var globals starlark.StringDict
	file := ""
	if fn, ok := t.DebugFrame(sel).Callable().(*starlark.Function); ok {
		globals, file = fn.Globals(), d.in.Shown(fn.Position().Filename())
	}
	bound := assignedNames(f, func(name string) bool {
		_, prompt := extra[name]
		_, seen := scope[name]
		return !prompt && (seen || starlark.Universe.Has(name))
	})
	var why []string
	for _, name := range bound {
		switch _, global := globals[name]; {
		case isVar[name]:
			why = append(why, fmt.Sprintf("cannot assign %s: a stopped function's variables cannot be changed (go.starlark.net has no way to)", name))
		case global:
			why = append(why, fmt.Sprintf("cannot assign %s: the globals of %s are frozen once it has loaded", name, file))
		default:
			why = append(why, fmt.Sprintf("cannot assign %s: it is a builtin or a function of the scripts, and binding it here would not change what the run calls", name))
		}
	}
	if len(why) == 0 {
		return ""
	}
	return strings.Join(why, "\n") + "\nNothing ran. Change the contents of a list or dict instead (x.append(v), d[k] = v), or use a new name."
}

// assignedNames are the names the statements of f bind (at the prompt's
// top level) for which taken holds, in order of appearance.
func assignedNames(f *syntax.File, taken func(string) bool) []string {
	seen := map[string]bool{}
	var out []string
	add := func(id *syntax.Ident) {
		if taken(id.Name) && !seen[id.Name] {
			seen[id.Name] = true
			out = append(out, id.Name)
		}
	}
	bind := func(e syntax.Expr) {
		syntax.Walk(e, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.Ident:
				add(n)
			case *syntax.IndexExpr, *syntax.DotExpr, *syntax.SliceExpr:
				return false // x[i] = v changes x's contents, not x
			}
			return true
		})
	}
	for _, s := range f.Stmts {
		syntax.Walk(s, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.AssignStmt:
				bind(n.LHS)
			case *syntax.ForStmt:
				bind(n.Vars)
			case *syntax.LoadStmt:
				for _, id := range n.To {
					add(id)
				}
			case *syntax.DefStmt:
				add(n.Name)
				return false
			case *syntax.LambdaExpr, *syntax.Comprehension:
				return false // their names are their own
			}
			return true
		})
	}
	return out
}

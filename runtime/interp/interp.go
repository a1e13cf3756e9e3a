// Package interp runs the Starlark side of kamal: it loads the stock
// script embedded in the binary (@kamal//build.star), resolves load()
// labels, builds the effective table of subcommands and steps, and calls a
// subcommand on a thread that is cancelled with the run's context. The
// debugger (runtime/debugger) and the prompt (runtime/repl) work on an
// Interp through its exported methods.
//
// An Interp is used by one run; Call may be invoked from one goroutine at
// a time (the fan-out inside a call makes its own threads).
package interp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/builtins"
	"github.com/kamal-go/kamal/runtime/inputfile"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/scripts"
)

// StockLabel is the label of the stock build script.
const StockLabel = "@kamal//build.star"

// StockLabelOf is the label of the stock script of `kamal COMMAND`
// (scripts/COMMAND.star).
func StockLabelOf(command string) string { return "@kamal//" + command + ".star" }

// fileOptions is the dialect of every script: statements at top level,
// while loops, sets and recursion (steps call steps: deliver holds the
// lock, then push asks for it again) are allowed; globals are frozen once
// a file loads,
// which is what makes the parallel fan-out safe.
var fileOptions = &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, Recursion: true}

// Interp holds the loaded scripts of one run.
type Interp struct {
	env         *builtins.Env
	predeclared starlark.StringDict
	cache       map[string]*loadEntry
	// effective maps a public name to the function that answers to it:
	// the stock script's, replaced by a user script's of the same name.
	effective starlark.StringDict
	origin    map[string]string // name -> label of the file that defined it
	// subcommands are the names callable as `kamal COMMAND NAME`.
	subcommands []string
	command     string          // "build", "lock", "registry"
	stock       string          // the label of command's stock script
	root        string          // the app directory user labels resolve in
	outsideOK   map[string]bool // files named on the command line
	sources     map[string][]byte
	stmts       statementStarts   // every statement's start, per file (statements.go)
	debug       builtins.Debugger // nil: no debugger
}

type loadEntry struct {
	globals starlark.StringDict
	err     error
	loading bool
}

// New returns an interpreter of `kamal build` for the run st.
func New(st *runstate.State) *Interp { return NewCommand(st, "build") }

// NewCommand returns an interpreter of `kamal COMMAND` for the run st:
// its stock script is scripts/COMMAND.star.
func NewCommand(st *runstate.State, command string) *Interp {
	env := builtins.NewEnv(st)
	in := &Interp{env: env, cache: map[string]*loadEntry{}, effective: starlark.StringDict{}, origin: map[string]string{},
		root: env.Dir, outsideOK: map[string]bool{}, sources: map[string][]byte{}, command: command, stock: StockLabelOf(command)}
	in.predeclared = builtins.Predeclared(env)
	in.predeclared["steps"] = &Steps{in: in}
	return in
}

// thread returns a new main thread bound to ctx.
func (in *Interp) thread(ctx context.Context, name string) *starlark.Thread {
	t := &starlark.Thread{
		Name:  name,
		Print: func(_ *starlark.Thread, msg string) { in.env.Log.Say(msg, "") },
		Load:  in.load,
	}
	in.env.Attach(t)
	builtins.SetContext(t, ctx)
	return t
}

// LoadStock loads the stock script and makes its public functions the
// effective table.
func (in *Interp) LoadStock(ctx context.Context) error {
	t := in.thread(ctx, "load")
	g, err := in.load(t, in.stock)
	if err != nil {
		return err
	}
	in.merge(in.stock, g)
	list, ok := g["SUBCOMMANDS"].(*starlark.List)
	if !ok {
		return fmt.Errorf("%s: SUBCOMMANDS must be a list of names", in.stock)
	}
	for i := 0; i < list.Len(); i++ {
		s, ok := starlark.AsString(list.Index(i))
		if !ok {
			return fmt.Errorf("%s: SUBCOMMANDS must be a list of names", in.stock)
		}
		in.subcommands = append(in.subcommands, s)
	}
	return nil
}

// LoadStockScript loads another stock script (label, "@kamal//deploy.star")
// on top of the effective table: its public functions join it, as steps
// and as functions Call can run; none becomes a kamal build subcommand.
func (in *Interp) LoadStockScript(ctx context.Context, label string) error {
	g, err := in.load(in.thread(ctx, "load"), label)
	if err != nil {
		return err
	}
	in.merge(label, g)
	return nil
}

func (in *Interp) merge(label string, g starlark.StringDict) {
	for name, v := range g {
		if strings.HasPrefix(name, "_") {
			continue
		}
		if _, ok := v.(starlark.Callable); !ok {
			continue
		}
		in.effective[name] = v
		in.origin[name] = label
	}
}

// load resolves a label and executes the file once; later loads of the
// same label return the same globals.
func (in *Interp) load(t *starlark.Thread, label string) (starlark.StringDict, error) {
	label, err := in.resolve(t, label)
	if err != nil {
		return nil, err
	}
	if e, ok := in.cache[label]; ok {
		if e.loading {
			return nil, fmt.Errorf("cannot load %s: cycle in load graph", label)
		}
		return e.globals, e.err
	}
	src, err := in.read(label)
	if err != nil {
		return nil, err
	}
	in.sources[label] = src
	e := &loadEntry{loading: true}
	in.cache[label] = e
	g, err := in.execFile(t, label, src)
	err = in.hintUndefined(err, in.predeclaredNames())
	e.globals, e.err, e.loading = g, err, false
	return g, err
}

// resolve turns a load() label into a canonical one: "@kamal//x.star"
// stays; any other label is a path relative to the directory of the file
// that loads it, and must stay inside the app.
func (in *Interp) resolve(t *starlark.Thread, label string) (string, error) {
	if strings.HasPrefix(label, "@kamal//") {
		return label, nil
	}
	if strings.HasPrefix(label, "@") {
		return "", fmt.Errorf("cannot load %s: unknown repository (only @kamal// is built in)", label)
	}
	from := ""
	if t.CallStackDepth() > 0 {
		from = t.CallFrame(0).Pos.Filename()
	}
	var abs string
	switch {
	case filepath.IsAbs(label):
		abs = filepath.Clean(label)
	case from == "" || strings.HasPrefix(from, "@"):
		abs = filepath.Join(in.root, label)
	default:
		abs = filepath.Join(filepath.Dir(from), label)
	}
	if rel, err := filepath.Rel(in.root, abs); err != nil || strings.HasPrefix(rel, "..") {
		if !in.outsideOK[abs] {
			return "", fmt.Errorf("cannot load %s: %s is outside the app directory %s", label, abs, in.root)
		}
	}
	return abs, nil
}

func (in *Interp) read(label string) ([]byte, error) {
	if name, ok := strings.CutPrefix(label, "@kamal//"); ok {
		b, err := fs.ReadFile(scripts.FS, path.Clean(name))
		if err != nil {
			return nil, fmt.Errorf("cannot load %s: no such stock script", label)
		}
		return b, nil
	}
	b, err := inputfile.ReadFile(label, label)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot load %s: %w", label, err)
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// LoadUser loads the user's script at path on top of the stock one: each
// public function it defines replaces the effective one of the same name,
// and each public function the stock script lacks becomes a subcommand.
func (in *Interp) LoadUser(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	in.outsideOK[abs] = true // named by the user (--script), so trusted
	t := in.thread(ctx, "load")
	// The script's top-level code may loop or wait: an interrupt stops it.
	stop := context.AfterFunc(ctx, func() { t.Cancel(ctx.Err().Error()) })
	defer stop()
	g, err := in.load(t, abs)
	if err != nil {
		return err
	}
	stock := in.cache[in.stock].globals
	var names []string
	for name, v := range g {
		if _, ok := v.(starlark.Callable); !ok || strings.HasPrefix(name, "_") {
			continue
		}
		if _, ok := v.(*starlark.Function); !ok {
			continue // a loaded or predeclared builtin, not the user's own
		}
		if _, inStock := stock[name]; !inStock && !slices.Contains(in.subcommands, name) {
			// (a destination's script may redefine the base script's)
			names = append(names, name)
		}
	}
	in.merge(abs, g)
	sort.Strings(names)
	in.subcommands = append(in.subcommands, names...)
	return nil
}

// Command is a subcommand the effective table offers.
type Command struct {
	Name    string
	Doc     string // the function's docstring
	Origin  string // label of the defining file
	Options []Option
	// AnyOptions: the function takes **kwargs, so any --name[=value].
	AnyOptions bool
}

// Option is a parameter of a subcommand's function, as a command-line
// option: --name (a bool default) or --name=VALUE.
type Option struct {
	Name    string // with dashes: "no-cache"
	Default string // the default's repr; "" when the parameter is required
	Bool    bool
}

// Commands lists the subcommands, sorted by name: those the stock script
// names in SUBCOMMANDS (in their effective version).
func (in *Interp) Commands() []Command {
	var out []Command
	for _, name := range in.subcommands {
		fn, ok := in.effective[name].(*starlark.Function)
		if !ok {
			continue
		}
		c := Command{Name: name, Doc: fn.Doc(), Origin: in.origin[name], AnyOptions: fn.HasKwargs()}
		for i := 0; i < namedParams(fn); i++ {
			p, _ := fn.Param(i)
			o := Option{Name: strings.ReplaceAll(p, "_", "-")}
			if d := fn.ParamDefault(i); d != nil {
				o.Default = d.String()
				_, o.Bool = d.(starlark.Bool)
			}
			c.Options = append(c.Options, o)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Has reports whether name is a subcommand.
func (in *Interp) Has(name string) bool {
	_, isFunc := in.effective[name].(*starlark.Function)
	return isFunc && slices.Contains(in.subcommands, name)
}

// Call runs subcommand name with keyword arguments on a new thread that
// is cancelled when ctx ends.
func (in *Interp) Call(ctx context.Context, name string, kwargs []starlark.Tuple) error {
	fn, ok := in.effective[name]
	if !ok {
		return fmt.Errorf("unknown subcommand %q", name)
	}
	t := in.thread(ctx, "kamal "+in.command+" "+name)
	if in.debug != nil {
		in.debug.Attach(nil, t)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			t.Cancel(ctx.Err().Error())
		case <-done:
		}
	}()
	_, err := starlark.Call(t, fn, nil, kwargs)
	return err
}

// Steps is the "steps" global: attribute lookups resolve at call time in
// the effective table, so a user script that replaces one step changes the
// stock flow that calls steps.NAME without copying it.
type Steps struct{ in *Interp }

func (s *Steps) String() string        { return "<steps>" }
func (s *Steps) Type() string          { return "steps" }
func (s *Steps) Freeze()               {}
func (s *Steps) Truth() starlark.Bool  { return true }
func (s *Steps) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: steps") }

// Attr returns the effective function called name.
func (s *Steps) Attr(name string) (starlark.Value, error) {
	if v, ok := s.in.effective[name]; ok {
		return v, nil
	}
	return nil, nil
}

// AttrNames lists the effective functions.
func (s *Steps) AttrNames() []string {
	names := make([]string, 0, len(s.in.effective))
	for n := range s.in.effective {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// The debugger's and the prompt's view of an Interp. None of these may be
// called while the Interp is loading scripts.

// LoadedFiles lists the loaded scripts as --break takes them.
func (in *Interp) LoadedFiles() []string {
	var out []string
	for label := range in.sources {
		out = append(out, in.Shown(label))
	}
	sort.Strings(out)
	return out
}

// Shown is a script's label as the debugger prints it: relative to the
// app when the file is inside it.
func (in *Interp) Shown(label string) string {
	if strings.HasPrefix(label, "@") || !filepath.IsAbs(label) {
		return label
	}
	if rel, err := filepath.Rel(in.root, label); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return label
}

// SetDebugger makes d stop this run's threads: the main threads Call
// starts and, through the run's Env, breakpoint() and on()'s threads.
func (in *Interp) SetDebugger(d builtins.Debugger) {
	in.debug = d
	in.env.Debugger = d
}

// State is the run the Interp works for.
func (in *Interp) State() *runstate.State { return in.env.State }

// Root is the app directory user labels resolve in.
func (in *Interp) Root() string { return in.root }

// Source is the text of the loaded script label, as threads name it.
func (in *Interp) Source(label string) ([]byte, bool) {
	src, ok := in.sources[label]
	return src, ok
}

// Labels lists the labels of the loaded scripts, in no order.
func (in *Interp) Labels() []string {
	out := make([]string, 0, len(in.sources))
	for label := range in.sources {
		out = append(out, label)
	}
	return out
}

// StatementAt reports whether pos is the start of a statement (its mark
// has just run: see statements.go).
func (in *Interp) StatementAt(pos syntax.Position) bool { return in.stmts.at(pos) }

// Globals is a new dict of what a prompt sees: the builtins and the
// effective functions.
func (in *Interp) Globals() starlark.StringDict {
	g := starlark.StringDict{}
	for k, v := range in.predeclared {
		g[k] = v
	}
	for k, v := range in.effective {
		g[k] = v
	}
	return g
}

// Thread returns a new thread of the run bound to ctx, as Call's are.
func (in *Interp) Thread(ctx context.Context, name string) *starlark.Thread {
	return in.thread(ctx, name)
}

// HintUndefined adds spelling hints to err (see hintUndefined).
func (in *Interp) HintUndefined(err error, names []string) error { return in.hintUndefined(err, names) }

// FileOptions is the dialect of every script, as a copy to adjust.
func FileOptions() syntax.FileOptions { return *fileOptions }

// IsDocstring reports whether s, a body's first statement, is its
// docstring (which runs nothing and has no mark).
func IsDocstring(s syntax.Stmt) bool { return isDocstring(s) }

// ErrorText is an error as a prompt shows it: with its Starlark
// backtrace.
func ErrorText(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return ee.Backtrace()
	}
	return err.Error()
}

// Package repl is the prompt of a run: an interactive Starlark session
// over an interp.Interp (kamal build repl, Run), and the line reading it
// shares with the debugger's prompt (LineReader, Open, Console).
package repl

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
	"golang.org/x/term"

	"github.com/kamal-go/kamal/runtime/interp"
)

// Prompt is an interactive Starlark session over the run's config,
// builtins and effective functions. On a terminal it edits lines, keeps
// history in a file and completes names; on a pipe it reads plain lines,
// so sessions can be scripted and tested.
//
// A Prompt runs one statement at a time on its own thread; Ctrl-C cancels
// the statement that is running (remote commands get the signal) and
// returns to the prompt, Ctrl-D leaves.
type Prompt struct {
	In          *os.File  // usually os.Stdin
	Out         io.Writer // usually os.Stdout
	HistoryFile string    // "" keeps no history
	// Banner is printed once at the start on a terminal.
	Banner string
	// Console, when the log writes to it, is told while a line is edited
	// so that log lines do not garble the prompt (nil: not told).
	Console *Console
	// Scrub, when set, is applied to everything the prompt prints (values,
	// errors, a debugger's source lines and locals), so that no secret
	// known to the run shows there.
	Scrub func(string) string
}

// scrubber is p.Scrub, or the identity.
func (p Prompt) scrubber() func(string) string {
	if p.Scrub == nil {
		return func(s string) string { return s }
	}
	return p.Scrub
}

// Run runs p with the interpreter's globals plus extra (a breakpoint's
// locals) until the input ends.
func Run(ctx context.Context, in *interp.Interp, p Prompt, extra starlark.StringDict) error {
	globals := in.Globals()
	for k, v := range extra {
		globals[k] = v
	}
	var rd LineReader
	if term.IsTerminal(int(p.In.Fd())) {
		tr, err := newTermReader(p, globals)
		if err != nil {
			return err
		}
		defer tr.Close()
		rd = tr
		if p.Banner != "" {
			rd.Print(p.Banner + "\n")
		}
	} else {
		rd = &pipeReader{sc: linesOf(p.In), out: p.Out, scrub: p.scrubber()}
	}
	opts := interp.FileOptions()
	opts.LoadBindsGlobally = true
	for {
		err := rep(ctx, in, &opts, rd, globals)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// LineReader is where the prompt's lines come from.
type LineReader interface {
	ReadLine(prompt string) (string, error) // io.EOF at the end; ErrInterrupt on Ctrl-C
	Print(s string)
	// running brackets the execution of a statement: cancel stops it
	// (a terminal calls it on Ctrl-C); nil marks its end.
	Running(cancel func())
}

// ErrInterrupt is what ReadLine returns for a Ctrl-C at the prompt.
var ErrInterrupt = errors.New("interrupted")

// rep reads, evaluates and prints one statement.
func rep(ctx context.Context, in *interp.Interp, opts *syntax.FileOptions, rd LineReader, globals starlark.StringDict) error {
	prompt := ">>> "
	// The parser keeps only the text of readline's errors, so the reasons
	// to stop are noted here.
	eof, interrupted, ended := false, false, false
	readline := func() ([]byte, error) {
		first := prompt == ">>> "
		line, err := rd.ReadLine(prompt)
		prompt = "... "
		if err == io.EOF && !first && !ended {
			// Input that ends inside a compound statement ends it, as a
			// blank line would; the next read reports the end.
			ended = true
			return []byte("\n"), nil
		}
		if err != nil {
			eof = err == io.EOF || ended
			interrupted = errors.Is(err, ErrInterrupt)
			return nil, err
		}
		return []byte(line + "\n"), nil
	}
	f, err := opts.ParseCompoundStmt("<stdin>", readline)
	if err != nil {
		if interrupted {
			rd.Print("KeyboardInterrupt\n")
			return nil
		}
		if eof {
			return io.EOF
		}
		// A syntax error quotes the input, which may hold a secret.
		rd.Print(in.State().Log.Scrub(err.Error()) + "\n")
		return nil
	}

	// Each statement gets a context that Ctrl-C cancels, so a hung ssh.run
	// stops (remote commands get the signal, local ones are killed) without
	// ending the session. On a terminal Ctrl-C is a key, not SIGINT (see
	// keyboard), so the run's own signal handling never sees it; a real
	// SIGINT or SIGTERM cancels ctx and so the statement and the session.
	stmtCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := in.Thread(stmtCtx, "repl")
	go func() {
		<-stmtCtx.Done()
		t.Cancel("interrupted")
	}()
	rd.Running(cancel)
	defer rd.Running(nil)

	if expr := SoleExpr(f); expr != nil {
		v, err := starlark.EvalExprOptions(f.Options, t, expr, globals)
		if err != nil {
			err = in.HintUndefined(err, globals.Keys())
			rd.Print(in.State().Log.Scrub(interp.ErrorText(err)) + "\n")
			return nil
		}
		globals["_"] = v
		if v != starlark.None {
			rd.Print(in.State().Log.Scrub(v.String()) + "\n")
		}
		return nil
	}
	if err := starlark.ExecREPLChunk(f, t, globals); err != nil {
		err = in.HintUndefined(err, globals.Keys())
		rd.Print(in.State().Log.Scrub(interp.ErrorText(err)) + "\n")
	}
	return nil
}

// SoleExpr is the expression f consists of, or nil when f is not one
// expression statement (a prompt prints an expression's value).
func SoleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if stmt, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return stmt.X
		}
	}
	return nil
}

// Open opens p's input for a prompt whose names are globals: a line
// editor on a terminal, plain lines otherwise. Call close when done.
func Open(p Prompt, globals starlark.StringDict) (rd LineReader, close func(), err error) {
	if p.In != nil && term.IsTerminal(int(p.In.Fd())) {
		tr, err := newTermReader(p, globals)
		if err != nil {
			return nil, nil, err
		}
		return tr, tr.Close, nil
	}
	return &pipeReader{sc: linesOf(p.In), out: p.Out, scrub: p.scrubber()}, func() {}, nil
}

// pipeReader reads plain lines and echoes nothing: the transcript of a
// scripted session is just its results.
type pipeReader struct {
	sc    *lineReader
	out   io.Writer
	scrub func(string) string
}

func (p *pipeReader) ReadLine(string) (string, error) { return p.sc.next() }
func (p *pipeReader) Print(s string)                  { io.WriteString(p.out, p.scrub(s)) }
func (p *pipeReader) Running(func())                  {}

// complete extends the word before pos: a global name, or an attribute
// after "value.". With several candidates it extends to their common
// prefix; when that adds nothing, ok is false and candidates lists them.
func complete(line string, pos int, globals starlark.StringDict) (newLine string, newPos int, ok bool, candidates []string) {
	start := pos
	for start > 0 && (isIdent(line[start-1]) || line[start-1] == '.') {
		start--
	}
	word := line[start:pos]
	if dot := strings.LastIndexByte(word, '.'); dot >= 0 {
		base, prefix := word[:dot], word[dot+1:]
		v := lookupPath(base, globals)
		if ha, ok := v.(starlark.HasAttrs); ok {
			for _, n := range ha.AttrNames() {
				if strings.HasPrefix(n, prefix) {
					candidates = append(candidates, base+"."+n)
				}
			}
		}
	} else {
		for n := range globals {
			if strings.HasPrefix(n, word) {
				candidates = append(candidates, n)
			}
		}
		for _, n := range starlark.Universe.Keys() {
			if strings.HasPrefix(n, word) {
				candidates = append(candidates, n)
			}
		}
	}
	if len(candidates) == 0 {
		return "", 0, false, nil
	}
	sort.Strings(candidates)
	candidates = slices.Compact(candidates)
	common := candidates[0]
	for _, c := range candidates[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	if len(common) <= len(word) {
		return "", 0, false, candidates
	}
	return line[:start] + common + line[pos:], start + len(common), true, candidates
}

// columns lays out words in columns no wider than width, one row a line.
func columns(words []string, width int) string {
	w := 0
	for _, s := range words {
		w = max(w, len(s))
	}
	w += 2
	per := max(width/w, 1)
	var b strings.Builder
	for i, s := range words {
		b.WriteString(s)
		if (i+1)%per == 0 || i == len(words)-1 {
			b.WriteByte('\n')
		} else {
			b.WriteString(strings.Repeat(" ", w-len(s)))
		}
	}
	return b.String()
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func lookupPath(path string, globals starlark.StringDict) starlark.Value {
	parts := strings.Split(path, ".")
	v, ok := globals[parts[0]]
	if !ok {
		v = starlark.Universe[parts[0]]
	}
	for _, p := range parts[1:] {
		ha, ok := v.(starlark.HasAttrs)
		if !ok {
			return nil
		}
		var err error
		if v, err = ha.Attr(p); err != nil || v == nil {
			return nil
		}
	}
	return v
}

// fileHistory is the terminal's history, loaded from and saved to a file.
type fileHistory struct {
	path  string
	lines []string // oldest first
}

const historyMax = 1000

func loadHistory(path string) *fileHistory {
	h := &fileHistory{path: path}
	if b, err := os.ReadFile(path); err == nil && path != "" {
		for _, l := range strings.Split(string(b), "\n") {
			if l != "" {
				h.lines = append(h.lines, l)
			}
		}
	}
	return h
}

func (h *fileHistory) Add(entry string) {
	if entry == "" || len(h.lines) > 0 && h.lines[len(h.lines)-1] == entry {
		return
	}
	h.lines = append(h.lines, entry)
	if len(h.lines) > historyMax {
		h.lines = h.lines[len(h.lines)-historyMax:]
	}
}

func (h *fileHistory) Len() int { return len(h.lines) }

// At returns the idx-th most recent entry (0 is the newest).
func (h *fileHistory) At(idx int) string { return h.lines[len(h.lines)-1-idx] }

func (h *fileHistory) save() {
	if h.path == "" {
		return
	}
	os.WriteFile(h.path, []byte(strings.Join(h.lines, "\n")+"\n"), 0o600)
}

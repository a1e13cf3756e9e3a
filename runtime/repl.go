package runtime

import (
	"bufio"
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

	"github.com/kamal-go/kamal/builtins"
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
}

// REPL runs p with the interpreter's globals plus extra (a breakpoint's
// locals) until the input ends.
func (in *Interp) REPL(ctx context.Context, p Prompt, extra starlark.StringDict) error {
	globals := starlark.StringDict{}
	for k, v := range in.predeclared {
		globals[k] = v
	}
	for k, v := range in.effective {
		globals[k] = v
	}
	for k, v := range extra {
		globals[k] = v
	}
	var rd lineReader
	if term.IsTerminal(int(p.In.Fd())) {
		tr, err := newTermReader(p, globals)
		if err != nil {
			return err
		}
		defer tr.close()
		rd = tr
		if p.Banner != "" {
			rd.write(p.Banner + "\n")
		}
	} else {
		rd = &pipeReader{sc: linesOf(p.In), out: p.Out}
	}
	opts := *fileOptions
	opts.LoadBindsGlobally = true
	for {
		err := in.rep(ctx, &opts, rd, globals)
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

// lineReader is where the prompt's lines come from.
type lineReader interface {
	readLine(prompt string) (string, error) // io.EOF at the end; errInterrupt on Ctrl-C
	write(s string)
	// running brackets the execution of a statement: cancel stops it
	// (a terminal calls it on Ctrl-C); nil marks its end.
	running(cancel func())
}

var errInterrupt = errors.New("interrupted")

// rep reads, evaluates and prints one statement.
func (in *Interp) rep(ctx context.Context, opts *syntax.FileOptions, rd lineReader, globals starlark.StringDict) error {
	prompt := ">>> "
	// The parser keeps only the text of readline's errors, so the reasons
	// to stop are noted here.
	eof, interrupted, ended := false, false, false
	readline := func() ([]byte, error) {
		first := prompt == ">>> "
		line, err := rd.readLine(prompt)
		prompt = "... "
		if err == io.EOF && !first && !ended {
			// Input that ends inside a compound statement ends it, as a
			// blank line would; the next read reports the end.
			ended = true
			return []byte("\n"), nil
		}
		if err != nil {
			eof = err == io.EOF || ended
			interrupted = errors.Is(err, errInterrupt)
			return nil, err
		}
		return []byte(line + "\n"), nil
	}
	f, err := opts.ParseCompoundStmt("<stdin>", readline)
	if err != nil {
		if interrupted {
			rd.write("KeyboardInterrupt\n")
			return nil
		}
		if eof {
			return io.EOF
		}
		rd.write(err.Error() + "\n")
		return nil
	}

	// Each statement gets a context that Ctrl-C cancels, so a hung ssh.run
	// stops (remote commands get the signal, local ones are killed) without
	// ending the session. On a terminal Ctrl-C is a key, not SIGINT (see
	// keyboard), so the run's own signal handling never sees it; a real
	// SIGINT or SIGTERM cancels ctx and so the statement and the session.
	stmtCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := in.thread(stmtCtx, "repl")
	go func() {
		<-stmtCtx.Done()
		t.Cancel("interrupted")
	}()
	rd.running(cancel)
	defer rd.running(nil)

	if expr := soleExpr(f); expr != nil {
		v, err := starlark.EvalExprOptions(f.Options, t, expr, globals)
		if err != nil {
			err = in.hintUndefined(err, globals.Keys())
			rd.write(in.env.Log.Scrub(errorText(err)) + "\n")
			return nil
		}
		globals["_"] = v
		if v != starlark.None {
			rd.write(in.env.Log.Scrub(v.String()) + "\n")
		}
		return nil
	}
	if err := starlark.ExecREPLChunk(f, t, globals); err != nil {
		err = in.hintUndefined(err, globals.Keys())
		rd.write(in.env.Log.Scrub(errorText(err)) + "\n")
	}
	return nil
}

// errorText is an error as the prompt shows it: with its backtrace.
func errorText(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return ee.Backtrace()
	}
	return err.Error()
}

func soleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if stmt, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return stmt.X
		}
	}
	return nil
}

// pipeReader reads plain lines and echoes nothing: the transcript of a
// scripted session is just its results.
type pipeReader struct {
	sc  *bufio.Scanner
	out io.Writer
}

func (p *pipeReader) readLine(string) (string, error) {
	if !p.sc.Scan() {
		if err := p.sc.Err(); err != nil {
			return "", err
		}
		return "", io.EOF
	}
	return p.sc.Text(), nil
}
func (p *pipeReader) write(s string) { io.WriteString(p.out, s) }
func (p *pipeReader) running(func()) {}

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

var _ = builtins.Context

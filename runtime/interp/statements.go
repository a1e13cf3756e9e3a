package interp

import (
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// Statement marks: a position for every statement.
//
// go.starlark.net records source positions only at operations that can
// fail (calls, names, attributes, operators), so a statement such as
// `count = 0` compiles to code with no position of its own, and a debugger
// that follows the call stack's positions cannot see it. Before a file is
// compiled, each statement of it gets a mark in front: a lookup of a
// predeclared name no script can spell (stmtMark), positioned at the
// statement's first token. The lookup cannot fail and its value is
// dropped, so the program means what it meant; it costs two instructions
// per statement run.
//
// The mark is the first instruction of its statement, so a thread whose
// frame shows a statement's start position (see statementStart) has run
// nothing of that statement yet.

// stmtMark is the predeclared name the marks look up: not an identifier,
// so no script can use, shadow or list it.
const stmtMark = "<statement>"

// markStatements puts a mark before every statement of f, in every block
// and function body, and returns the start positions of the statements
// as (line, column) pairs. A function's docstring stays its first
// statement (it compiles to nothing and needs no mark).
func markStatements(f *syntax.File) map[[2]int32]bool {
	starts := map[[2]int32]bool{}
	var block func(stmts []syntax.Stmt) []syntax.Stmt
	block = func(stmts []syntax.Stmt) []syntax.Stmt {
		if len(stmts) == 0 {
			return stmts // an if's missing else stays nil: Span needs that
		}
		out := make([]syntax.Stmt, 0, 2*len(stmts))
		for i, s := range stmts {
			switch s := s.(type) {
			case *syntax.DefStmt:
				s.Body = block(s.Body)
			case *syntax.IfStmt:
				s.True = block(s.True)
				s.False = block(s.False)
			case *syntax.ForStmt:
				s.Body = block(s.Body)
			case *syntax.WhileStmt:
				s.Body = block(s.Body)
			}
			if i == 0 && isDocstring(s) {
				out = append(out, s)
				continue
			}
			start, _ := s.Span()
			starts[[2]int32{start.Line, start.Col}] = true
			out = append(out, &syntax.ExprStmt{X: &syntax.Ident{NamePos: start, Name: stmtMark}})
			out = append(out, s)
		}
		return out
	}
	f.Stmts = block(f.Stmts)
	return starts
}

// isDocstring reports whether s, first in its block, is a string
// literal: a docstring, which compiles to nothing.
func isDocstring(s syntax.Stmt) bool {
	e, ok := s.(*syntax.ExprStmt)
	if !ok {
		return false
	}
	lit, ok := e.X.(*syntax.Literal)
	return ok && lit.Token == syntax.STRING
}

// statementStarts holds, per loaded file label, the start positions
// markStatements returned. It is written when a file loads (possibly from
// the debugger's prompt) and read by running threads.
type statementStarts struct{ m sync.Map } // label -> map[[2]int32]bool

func (s *statementStarts) set(label string, starts map[[2]int32]bool) { s.m.Store(label, starts) }

// at reports whether pos is the first token of a statement of a loaded
// file.
func (s *statementStarts) at(pos syntax.Position) bool {
	v, ok := s.m.Load(pos.Filename())
	return ok && v.(map[[2]int32]bool)[[2]int32{pos.Line, pos.Col}]
}

// execFile parses, marks, compiles and runs the file label, and returns
// its frozen globals (as starlark.ExecFileOptions does).
func (in *Interp) execFile(t *starlark.Thread, label string, src []byte) (starlark.StringDict, error) {
	predeclared := make(starlark.StringDict, len(in.predeclared)+1)
	for k, v := range in.predeclared {
		predeclared[k] = v
	}
	predeclared[stmtMark] = starlark.None
	c, err := compile(label, src, predeclared)
	if err != nil {
		return nil, err
	}
	in.stmts.set(label, c.starts)
	g, err := c.prog.Init(t, predeclared)
	g.Freeze()
	return g, err
}

// compiledFile is a file parsed, marked and compiled.
type compiledFile struct {
	prog   *starlark.Program
	starts map[[2]int32]bool
}

// stockCompiled caches the stock script's compilation for the process:
// `kamal build` loads it twice (for the parser's table of subcommands,
// then for the run), and its parse and compile are most of a load's cost.
// A Program is immutable and may be run by any number of Interps; the
// predeclared names it was compiled against are every Interp's.
var stockCompiled sync.Map // source -> *compiledFile

func compile(label string, src []byte, predeclared starlark.StringDict) (*compiledFile, error) {
	if label == StockLabel {
		if c, ok := stockCompiled.Load(string(src)); ok {
			return c.(*compiledFile), nil
		}
	}
	f, err := fileOptions.Parse(label, src, 0)
	if err != nil {
		return nil, err
	}
	starts := markStatements(f)
	prog, err := starlark.FileProgram(f, predeclared.Has)
	if err != nil {
		return nil, err
	}
	c := &compiledFile{prog: prog, starts: starts}
	if label == StockLabel {
		stockCompiled.Store(string(src), c)
	}
	return c, nil
}

package interp

import (
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/scripts"
)

// StockSource returns the text of the stock build script.
func StockSource() ([]byte, error) {
	return fs.ReadFile(scripts.FS, strings.TrimPrefix(StockLabel, "@kamal//"))
}

// Effective renders the effective script: every public function that
// answers to its name, stock or user's, each under a comment saying which
// file it comes from, in the order of the files then of the definitions.
func (in *Interp) Effective() string {
	type def struct {
		label string
		line  int32
		text  string
	}
	var defs []def
	for label, src := range in.sources {
		f, err := syntax.Parse(label, src, 0)
		if err != nil {
			continue
		}
		lines := strings.Split(string(src), "\n")
		for _, stmt := range f.Stmts {
			d, ok := stmt.(*syntax.DefStmt)
			if !ok || strings.HasPrefix(d.Name.Name, "_") || in.origin[d.Name.Name] != label {
				continue
			}
			start, end := d.Span()
			text := strings.Join(lines[start.Line-1:end.Line], "\n")
			defs = append(defs, def{label, start.Line, text})
		}
	}
	order := func(label string) int {
		if label == in.stock {
			return 0
		}
		return 1
	}
	sort.Slice(defs, func(i, j int) bool {
		if defs[i].label != defs[j].label {
			if order(defs[i].label) != order(defs[j].label) {
				return order(defs[i].label) < order(defs[j].label)
			}
			return defs[i].label < defs[j].label
		}
		return defs[i].line < defs[j].line
	})
	var b strings.Builder
	for _, d := range defs {
		fmt.Fprintf(&b, "# from %s:%d\n%s\n\n", d.label, d.line, d.text)
	}
	return b.String()
}

// Trace makes every builtin call print "[trace] FILE:LINE NAME 0.012s"
// to w when it returns, naming the script line that called it.
func (in *Interp) Trace(w io.Writer) {
	for name, v := range in.predeclared {
		switch v := v.(type) {
		case *starlark.Builtin:
			in.predeclared[name] = traced(w, v)
		case *starlarkstruct.Module:
			members := starlark.StringDict{}
			for k, m := range v.Members {
				if b, ok := m.(*starlark.Builtin); ok {
					m = traced(w, b)
				}
				members[k] = m
			}
			in.predeclared[name] = &starlarkstruct.Module{Name: v.Name, Members: members}
		}
	}
}

func traced(w io.Writer, inner *starlark.Builtin) *starlark.Builtin {
	return starlark.NewBuiltin(inner.Name(), func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		start := time.Now()
		v, err := starlark.Call(thread, inner, args, kwargs)
		where := "?"
		if thread.CallStackDepth() > 1 {
			where = thread.CallFrame(1).Pos.String()
		}
		status := ""
		if err != nil {
			status = " (failed)"
		}
		fmt.Fprintf(w, "[trace] %s %s %.3fs%s\n", where, inner.Name(), time.Since(start).Seconds(), status)
		return v, err
	})
}

package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/shell"
)

var shellModule = Builtin{
	Sig: "shell",
	Doc: "Operators that join commands into one command line.",
	Members: []Builtin{
		{Sig: "combine(*cmds)", Doc: "Joins commands with &&; None arguments are dropped.", Fn: joiner(shell.Combine)},
		{Sig: "chain(*cmds)", Doc: "Joins commands with ;.", Fn: joiner(shell.Chain)},
		{Sig: "pipe(*cmds)", Doc: "Joins commands with |.", Fn: joiner(shell.Pipe)},
		{Sig: "any(*cmds)", Doc: "Joins commands with ||.", Fn: joiner(shell.Any)},
		{Sig: "escape(s)", Doc: "Quotes s as one double-quoted shell word, the way Kamal 2 escapes values (a ${...} group is left for the shell): for whole scripts given as strings (cmd() quotes its words itself).", Fn: stringFunc(shell.Escape)},
	},
}

// joiner makes a builtin joining its command arguments with join.
func joiner(join func(...*shell.Command) *shell.Command) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if len(kwargs) > 0 {
			return nil, fmt.Errorf("%s: unexpected keyword arguments", b.Name())
		}
		var cmds []*shell.Command
		for i, a := range args {
			switch a := a.(type) {
			case Cmd:
				cmds = append(cmds, a.C)
			case starlark.NoneType:
			default:
				return nil, fmt.Errorf("%s: argument %d: got %s, want cmd", b.Name(), i+1, a.Type())
			}
		}
		return Cmd{join(cmds...)}, nil
	}
}

// stringFunc wraps a string-to-string function as a builtin.
func stringFunc(f func(string) string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "s", &s); err != nil {
			return nil, err
		}
		return starlark.String(f(s)), nil
	}
}

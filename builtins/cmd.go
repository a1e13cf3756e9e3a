package builtins

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/runtime/shell"
)

// Cmd is a command line as a Starlark value. It is immutable: scripts build
// new commands from old ones with cmd(), shell.combine() and friends.
// str(cmd) is the redacted form a log line would show, so printing a
// command never leaks a secret.
type Cmd struct{ C *shell.Command }

var (
	_ starlark.Value      = Cmd{}
	_ starlark.HasAttrs   = Cmd{}
	_ starlark.Comparable = Cmd{}
)

// CompareSameType makes == and != compare commands by what they are
// (words, environment, input), not by identity.
func (c Cmd) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	eq := c.C.Equal(y.(Cmd).C)
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("%s %s %s not implemented", c.Type(), op, y.Type())
}

func (c Cmd) String() string        { return c.C.Logged() }
func (c Cmd) Type() string          { return "cmd" }
func (c Cmd) Freeze()               {}
func (c Cmd) Truth() starlark.Bool  { return starlark.Bool(!c.C.Empty()) }
func (c Cmd) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: cmd") }

// Attr exposes the read-only parts of a command.
func (c Cmd) Attr(name string) (starlark.Value, error) {
	switch name {
	case "words":
		var l []starlark.Value
		for _, w := range c.C.Words {
			if w.Sensitive {
				l = append(l, starlark.String(shell.Redacted))
			} else {
				l = append(l, starlark.String(w.Text))
			}
		}
		return starlark.NewList(l), nil
	case "env":
		d := starlark.NewDict(len(c.C.Env))
		for _, e := range c.C.Env {
			d.SetKey(starlark.String(e.Key), starlark.String(e.Value))
		}
		return d, nil
	case "empty":
		return starlark.Bool(c.C.Empty()), nil
	case "name":
		return starlark.String(c.C.Name()), nil
	}
	return nil, nil
}

func (c Cmd) AttrNames() []string { return []string{"empty", "env", "name", "words"} }

// word is one argument of cmd(): a string, a number, a secret() or a cmd
// (whose words are spliced in).
func appendWord(c *shell.Command, fn string, v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		c.Literal(string(v))
	case starlark.Int, starlark.Float:
		c.Arg(v.String())
	case Secret:
		c.Words = append(c.Words, shell.Word{Text: v.value, Sensitive: true, Literal: true})
	case Cmd:
		c.Append(v.C)
	default:
		return fmt.Errorf("%s: got %s, want string, number, secret or cmd", fn, v.Type())
	}
	return nil
}

// cmd(*words, env={}) builds a command from words.
func cmdBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var env *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "env??", &env); err != nil {
		return nil, err
	}
	c := &shell.Command{}
	for _, a := range args {
		if err := appendWord(c, b.Name(), a); err != nil {
			return nil, err
		}
	}
	vars, err := envVars(b.Name(), env)
	if err != nil {
		return nil, err
	}
	c.Env = vars
	return Cmd{c}, nil
}

// envVars checks that d (None or nil: no variables) maps strings to
// strings and returns its entries sorted by name; cmd(env=) and
// local.run(env=) share it so that both take and refuse the same values.
func envVars(fn string, d *starlark.Dict) ([]shell.EnvVar, error) {
	if d == nil {
		return nil, nil
	}
	var out []shell.EnvVar
	for _, kv := range d.Items() {
		ks, ok1 := starlark.AsString(kv[0])
		vs, ok2 := starlark.AsString(kv[1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: env must map strings to strings, got %s: %s", fn, kv[0].Type(), kv[1].Type())
		}
		out = append(out, shell.EnvVar{Key: ks, Value: vs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Secret is a word whose text must never be shown.
type Secret struct{ value string }

func (s Secret) String() string        { return shell.Redacted }
func (s Secret) Type() string          { return "secret" }
func (s Secret) Freeze()               {}
func (s Secret) Truth() starlark.Bool  { return s.value != "" }
func (s Secret) Hash() (uint32, error) { return starlark.String(s.value).Hash() }

func secretBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "value", &v); err != nil {
		return nil, err
	}
	if e := EnvOf(thread); e != nil {
		e.Log.AddSecret(v)
	}
	return Secret{v}, nil
}

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

// Shell is the "shell" module: operators that join commands.
var Shell = &starlarkstruct.Module{Name: "shell", Members: starlark.StringDict{
	"combine": starlark.NewBuiltin("shell.combine", joiner(shell.Combine)),
	"chain":   starlark.NewBuiltin("shell.chain", joiner(shell.Chain)),
	"pipe":    starlark.NewBuiltin("shell.pipe", joiner(shell.Pipe)),
	"any":     starlark.NewBuiltin("shell.any", joiner(shell.Any)),
	"escape":  starlark.NewBuiltin("shell.escape", stringFunc(shell.Escape)),
}}

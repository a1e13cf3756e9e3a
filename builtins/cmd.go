package builtins

import (
	"fmt"
	"sort"

	"go.starlark.net/starlark"
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

var cmdGlobal = Builtin{
	Sig: "cmd(*words, env=None)",
	Doc: "A command line built from words (strings, numbers, secret() values or other commands, whose words are spliced in as they are). Each string reaches the command as exactly that one word: it is single-quoted where the shell would split or expand it (cmd(\"sh\", \"-c\", \"echo a b\") runs sh -c 'echo a b'), while commands from docker.*, builder.* and the like keep Kamal's rendering. Only the first word is mapped to /usr/bin/env (except docker), as SSHKit does. env (strings to strings) is exported around the command. str(cmd) is the redacted form a log line shows; two commands are == when their words, env and input are. Building a command runs nothing.",
	Fn:  cmdBuiltin,
}

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

var secretGlobal = Builtin{
	Sig: "secret(value)",
	Doc: "A word commands show as [REDACTED]. Later command output and error messages are scrubbed of the value too when it cannot be mistaken for ordinary text (8+ characters with a digit, or 16+, and not part of the config's own text).",
	Fn:  secretBuiltin,
}

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

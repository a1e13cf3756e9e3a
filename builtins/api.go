package builtins

//go:generate sh -c "go run ../cmd/kamal build api > ../docs/builtins.md"

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Func is the Go side of a builtin function.
type Func = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// Builtin is one name a script can read or call, registered once: the
// values scripts see (Predeclared) and the reference (`kamal build api`,
// docs/builtins.md) are both made from the same entries, so the reference
// lists exactly what exists, with the parameters it takes.
//
// Exactly one of Fn, Value and Members is set, except for a name the
// runtime sets itself (steps), which has none and is only documented.
type Builtin struct {
	// Sig is the name and, for a function, its parameters as a call
	// writes them: `run(cmd, level="info")`. A module member's Sig has no
	// module prefix.
	Sig string
	// Doc states the contract: what a script may rely on.
	Doc string
	// Fn implements a function.
	Fn Func
	// Value makes a global that is not a function, for one run.
	Value func(*Env) starlark.Value
	// Members make it a module (named Sig); Doc is the module's.
	Members []Builtin
	// Waits marks a function that waits: it runs a process (a command, a
	// hook, a git query), a port forward or a prompt, or waits for other
	// threads. Its Fn is called with the calling thread's hold on the
	// run's Starlark lock given up (see waiting), so that the threads of
	// on() run in parallel meanwhile; it must call back into Starlark
	// through CallBack. The transports refuse to start anything for a
	// thread that holds the lock, so a waiting builtin registered without
	// Waits fails instead of running one host at a time.
	Waits bool
}

// Name is the part of Sig before its parameters.
func (b Builtin) Name() string {
	name, _, _ := strings.Cut(b.Sig, "(")
	return name
}

// globals are the predeclared names, in the order the reference presents
// them: the run's facts, commands as data, running them, the flow's
// pieces, then output.
var globals = []Builtin{
	configGlobal,
	kamalGlobal,
	stepsGlobal,
	cmdGlobal,
	secretGlobal,
	shellModule,
	localModule,
	sshModule,
	onGlobal,
	hookGlobal,
	lockModule,
	dockerModule,
	builderModule,
	gitModule,
	registryModule,
	auditGlobal,
	sayGlobal,
	logModule,
	errorGlobal,
	breakpointGlobal,
	handOffGlobal,
}

// Predeclared returns the builtins every script sees, for the run described
// by e. The returned dict and its modules are fresh; callers may add to it.
func Predeclared(e *Env) starlark.StringDict {
	d := starlark.StringDict{}
	for _, g := range globals {
		name := g.Name()
		switch {
		case g.Fn != nil:
			d[name] = starlark.NewBuiltin(name, g.fn())
		case g.Value != nil:
			d[name] = g.Value(e)
		case g.Members != nil:
			members := starlark.StringDict{}
			for _, m := range g.Members {
				members[m.Name()] = starlark.NewBuiltin(name+"."+m.Name(), m.fn())
			}
			d[name] = &starlarkstruct.Module{Name: name, Members: members}
		}
	}
	return d
}

// fn is b's Fn as scripts call it: wrapped by waiting when b waits.
func (b Builtin) fn() Func {
	if b.Waits {
		return waiting(b.Fn)
	}
	return b.Fn
}

// Reference is the text of `kamal build api` and docs/builtins.md.
func Reference() string {
	var b strings.Builder
	b.WriteString("# Builtins\n\nWhat every script (stock, user, REPL) can call. Commands are data: the docker, builder, git.clone and audit builtins only build them; local.run and ssh.run run them.\n")
	for _, g := range globals {
		fmt.Fprintf(&b, "\n## `%s`\n\n%s\n", g.Sig, g.Doc)
		for _, m := range g.Members {
			fmt.Fprintf(&b, "\n### `%s.%s`\n\n%s\n", g.Sig, m.Sig, m.Doc)
		}
	}
	return b.String()
}

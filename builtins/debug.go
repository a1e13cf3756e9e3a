package builtins

import (
	"go.starlark.net/starlark"
)

var breakpointGlobal = Builtin{
	Sig:   "breakpoint()",
	Doc:   "Stops the flow and opens the prompt with the caller's local variables in scope; leaving the prompt (Ctrl-D, or the end of piped input) resumes the flow.",
	Fn:    breakpointBuiltin,
	Waits: true,
}

// breakpointBuiltin hands the stop to the run's debugger (see
// runtime.Debugger); without one (Env.Debugger unset) it does nothing.
func breakpointBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	if e == nil || e.Debugger == nil {
		return starlark.None, nil
	}
	return starlark.None, e.Debugger.Breakpoint(thread)
}

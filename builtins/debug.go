package builtins

import (
	"go.starlark.net/starlark"
)

// breakpoint() stops the flow at the caller's line and opens the
// debugger's prompt (see runtime.Debugger); leaving the prompt (continue,
// Ctrl-D, or the end of piped input) resumes the flow. Without a debugger
// (Env.Debugger unset) it does nothing.
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

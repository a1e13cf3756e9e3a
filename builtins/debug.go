package builtins

import (
	"go.starlark.net/starlark"
)

// breakpoint() stops the flow and opens the prompt with the caller's local
// variables in scope; leaving the prompt (Ctrl-D, or the end of piped
// input) resumes the flow. Without a prompt (Env.Breakpoint unset) it does
// nothing.
func breakpointBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	if e == nil || e.Breakpoint == nil {
		return starlark.None, nil
	}
	locals := starlark.StringDict{}
	if thread.CallStackDepth() > 1 {
		fr := thread.DebugFrame(1)
		for i := 0; i < fr.NumLocals(); i++ {
			bind, v := fr.Local(i)
			if v != nil {
				locals[bind.Name] = v
			}
		}
		e.Log.Say("breakpoint at "+fr.Position().String()+" (Ctrl-D to continue)", "")
	}
	return starlark.None, e.Breakpoint(thread, locals)
}

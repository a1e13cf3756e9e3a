package builtins

import (
	"go.starlark.net/starlark"
)

var hookGlobal = Builtin{
	Sig:   "hook(name)",
	Doc:   "Runs the hook <hooks_path>/NAME locally with Kamal's KAMAL_* environment and returns True, or returns False when it is missing or -H was given. Kamal 1 configs print \"Running the NAME hook...\" first. pre-connect runs at most once per process. A failing hook raises Kamal::Cli::HookError.",
	Fn:    hookBuiltin,
	Waits: true,
}

// hookBuiltin binds runtime/hook, the run's Env.Hooks.
func hookBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	ran, err := EnvOf(thread).Hooks.Run(Context(thread), name)
	return starlark.Bool(ran), err
}

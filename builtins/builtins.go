package builtins

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Predeclared returns the builtins every script sees, for the run described
// by e. The returned dict is fresh; callers may add to it.
func Predeclared(e *Env) starlark.StringDict {
	return starlark.StringDict{
		"config":     ConfigValue(e),
		"kamal":      kamalValue(e),
		"cmd":        starlark.NewBuiltin("cmd", cmdBuiltin),
		"secret":     starlark.NewBuiltin("secret", secretBuiltin),
		"shell":      Shell,
		"local":      Local,
		"ssh":        SSH,
		"on":         starlark.NewBuiltin("on", onBuiltin),
		"hook":       starlark.NewBuiltin("hook", hookBuiltin),
		"lock":       Lock,
		"docker":     Docker,
		"builder":    BuilderModule,
		"git":        Git,
		"audit":      starlark.NewBuiltin("audit", auditBuiltin),
		"say":        starlark.NewBuiltin("say", sayBuiltin),
		"log":        Log,
		"error":      starlark.NewBuiltin("error", errorBuiltin),
		"breakpoint": starlark.NewBuiltin("breakpoint", breakpointBuiltin),
	}
}

// kamalValue is the "kamal" global: how this run was invoked.
func kamalValue(e *Env) starlark.Value {
	f := e.Flags
	return starlarkstruct.FromStringDict(starlark.String("kamal"), starlark.StringDict{
		"version":     starlark.String(CompatVersion),
		"command":     starlark.String(f.Command),
		"subcommand":  starlark.String(f.Subcommand),
		"destination": optString(f.Destination),
		"dry_run":     starlark.Bool(f.DryRun),
		"verbose":     starlark.Bool(f.Verbose),
		"quiet":       starlark.Bool(f.Quiet),
		"skip_hooks":  starlark.Bool(f.SkipHooks),
	})
}

// CompatVersion is the Kamal release whose behaviour kamal-go follows.
const CompatVersion = "2.12.0"

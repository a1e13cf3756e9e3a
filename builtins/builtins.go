package builtins

import "go.starlark.net/starlark"

// Predeclared returns the builtins every script sees, for the run described
// by e. The returned dict is fresh; callers may add to it.
func Predeclared(e *Env) starlark.StringDict {
	return starlark.StringDict{
		"config":     ConfigValue(e),
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

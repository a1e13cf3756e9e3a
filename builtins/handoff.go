package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
)

var handOffGlobal = Builtin{
	Sig:   "hand_off(*extra)",
	Doc:   "Runs the app's own Ruby Kamal (looked up before the run started) with the command line the user typed after `kamal` and the words extra added at its end (`hand_off(\"--skip-push\", \"--version=\" + config.version)`), in the app directory, with this process's environment and standard streams; SIGINT and SIGTERM reach it. Returns its exit status, which becomes kamal-go's when the script ends. Refused while this run holds the deploy lock (Kamal takes its own). With --dry-run it prints the command line and runs nothing.",
	Fn:    handOffBuiltin,
	Waits: true,
}

// handOffBuiltin binds Env.HandOff, which cmd/kamal provides for the
// commands it hands off (deploy, redeploy, setup).
func handOffBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %q", b.Name(), kwargs[0][0])
	}
	extra := make([]string, len(args))
	for i, a := range args {
		s, ok := starlark.AsString(a)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d: got %s, want string", b.Name(), i+1, a.Type())
		}
		extra[i] = s
	}
	e := EnvOf(thread)
	if e.HandOff == nil {
		return nil, fmt.Errorf("%s: only `kamal deploy`, `redeploy` and `setup` hand off to the app's Kamal", b.Name())
	}
	if e.Lock != nil && e.Lock.Held() {
		return nil, fmt.Errorf("%s: this run holds the deploy lock: release it first (the app's Kamal takes its own)", b.Name())
	}
	code, err := e.HandOff(Context(thread), extra)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(code), nil
}

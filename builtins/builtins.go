package builtins

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/config"
)

var kamalGlobal = Builtin{
	Sig:   "kamal",
	Doc:   "How this run was invoked: version (the Kamal release followed), command, subcommand, destination, dry_run, verbose, quiet, skip_hooks.",
	Value: kamalValue,
}

// stepsGlobal is set by the runtime, which knows the scripts.
var stepsGlobal = Builtin{
	Sig: "steps",
	Doc: "The effective functions, looked up when called: steps.NAME is the user script's NAME if it defines one, else the stock script's. The stock flows call their pieces through steps, so replacing one piece changes the flow without copying it.",
}

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
const CompatVersion = config.NewestVersion

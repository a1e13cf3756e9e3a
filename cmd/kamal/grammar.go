package main

import (
	"slices"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
)

// classOptions are the options every command takes (Thor's class
// options): Kamal 2.12's, then kamal-go's own. This is their one
// declaration: the parser, help and globalOptions read it.
func classOptions() []*thor.Option {
	str, boolean, num := thor.String, thor.Boolean, thor.Numeric
	return []*thor.Option{
		{Name: "verbose", Aliases: []string{"-v"}, Type: boolean, Desc: "Detailed logging"},
		{Name: "quiet", Aliases: []string{"-q"}, Type: boolean, Desc: "Minimal logging"},
		{Name: "version", Type: str, Desc: "Run commands against a specific app version"},
		{Name: "primary", Aliases: []string{"-p"}, Type: boolean, Desc: "Run commands only on primary host instead of all"},
		{Name: "hosts", Aliases: []string{"-h"}, Type: str, Desc: "Run commands on these hosts instead of all (separate by comma, supports wildcards with *)"},
		{Name: "roles", Aliases: []string{"-r"}, Type: str, Desc: "Run commands on these roles instead of all (separate by comma, supports wildcards with *)"},
		{Name: "config_file", Aliases: []string{"-c"}, Type: str, Default: "config/deploy.yml", Desc: "Path to config file"},
		{Name: "destination", Aliases: []string{"-d"}, Type: str, Desc: "Specify destination to be used for config file (staging -> deploy.staging.yml)"},
		{Name: "skip_hooks", Aliases: []string{"-H"}, Type: boolean, Default: false, Desc: "Don't run hooks"},
		{Name: "lock_wait", Type: boolean, Default: false, Desc: "Wait for the deploy lock if it's already held instead of failing immediately"},
		{Name: "lock_wait_timeout", Type: num, Default: 900.0, Desc: "Maximum seconds to wait for the deploy lock when --lock-wait is set"},
		{Name: "lock_wait_interval", Type: num, Default: 15.0, Desc: "Seconds between deploy lock polls when --lock-wait is set"},
		// kamal-go's own.
		{Name: "dry_run", Type: boolean, Desc: "Print what would run, run nothing"},
		{Name: "script", Type: str, Banner: "FILE", Desc: "Load this build script on top of the stock one (default .kamal/scripts/build.star)"},
		{Name: "trace", Type: boolean, Desc: "Print every builtin call with its file:line and duration"},
		{Name: "break", Type: str, Repeatable: true, Banner: "FILE:LINE", Desc: "Stop at this line of a script (repeatable; FILE as scripts show it, e.g. @kamal//build.star; FILE:LINE#N only the Nth time, 'FILE:LINE if EXPR' only when EXPR holds there)"},
		{Name: "progress", Type: str, Banner: "MODE", Desc: "plain (Kamal's log) or condensed: on a terminal, one live line for each step on more than 10 hosts"},
		{Name: "dap", Type: str, Banner: "ADDR", Desc: "Wait for a Debug Adapter Protocol client (an editor) on this loopback address, e.g. 127.0.0.1:4711, and stop where it says"},
	}
}

func boolOpt(name, alias string, def any, desc string) *thor.Option {
	o := &thor.Option{Name: name, Type: thor.Boolean, Default: def, Desc: desc}
	if alias != "" {
		o.Aliases = []string{alias}
	}
	return o
}

// lockNamespace is kamal lock's (Kamal 2.12).
func lockNamespace() *thor.Namespace {
	return &thor.Namespace{Name: "lock", Options: classOptions(), Commands: []*thor.Command{
		{Name: "status"},
		{Name: "acquire", Options: []*thor.Option{{Name: "message", Aliases: []string{"-m"}, Type: thor.String, Required: true, Desc: "A lock message"}}},
		{Name: "release"},
	}}
}

// registryNamespace is kamal registry's (Kamal 2.12).
func registryNamespace() *thor.Namespace {
	ns := &thor.Namespace{Name: "registry", Options: classOptions()}
	for _, name := range []string{"setup", "remove", "login", "logout"} {
		ns.Commands = append(ns.Commands, &thor.Command{Name: name, Options: []*thor.Option{
			boolOpt("skip_local", "-L", false, "Skip local login"),
			boolOpt("skip_remote", "-R", false, "Skip remote login"),
		}})
	}
	return ns
}

// secretsNamespace is kamal secrets' (Kamal 2.12).
func secretsNamespace() *thor.Namespace {
	inline := &thor.Option{Name: "inline", Type: thor.Boolean, Hide: true}
	return &thor.Namespace{Name: "secrets", Options: classOptions(), Commands: []*thor.Command{
		{Name: "fetch", Usage: "fetch [SECRETS...]", MaxArgs: -1, Options: []*thor.Option{
			{Name: "adapter", Aliases: []string{"-a"}, Type: thor.String, Required: true, Desc: "Which vault adapter to use"},
			{Name: "account", Type: thor.String, Desc: "The account identifier or username"},
			{Name: "from", Type: thor.String, Desc: "A vault or folder to fetch the secrets from"},
			inline,
		}},
		{Name: "extract", MinArgs: 2, MaxArgs: 2, Options: []*thor.Option{inline}},
		{Name: "print"},
	}}
}

// buildNamespace is kamal build's for the subcommands of a build script
// (the stock one and the user's): each function a command, each
// parameter an option typed by its default (True/False a switch, a
// number numeric, anything else a string; no default: required).
func buildNamespace(cmds []buildCommand) *thor.Namespace {
	ns := &thor.Namespace{Name: "build", Options: classOptions()}
	for _, c := range cmds {
		ns.Commands = append(ns.Commands, &thor.Command{Name: c.name, Options: c.options, AnyOptions: c.anyOptions, MaxArgs: c.maxArgs})
	}
	return ns
}

// buildCommand is one kamal build subcommand as the parser sees it.
type buildCommand struct {
	name       string
	options    []*thor.Option
	anyOptions bool // def f(**kwargs): any --name[=value]
	maxArgs    int  // positional arguments it takes (-1: any number)
}

// grammar is kamal's command line: Kamal 2.12's commands in Kamal's
// order (those kamal-go does not run marked handed off) and kamal-go's
// own. build resolves its subcommands with buildCommands, given the
// class options.
func grammar(buildCommands func(class thor.Values, sub string) ([]buildCommand, error)) *thor.Namespace {
	static := func(ns func() *thor.Namespace) func(thor.Values, string) (*thor.Namespace, error) {
		return func(thor.Values, string) (*thor.Namespace, error) { return ns(), nil }
	}
	own := map[string]*thor.Command{
		"config":  {Name: "config"},
		"version": {Name: "version"},
		"build": {Name: "build", MaxArgs: -1, Sub: func(v thor.Values, sub string) (*thor.Namespace, error) {
			cmds, err := buildCommands(v, sub)
			if err != nil {
				return nil, err
			}
			return buildNamespace(cmds), nil
		}},
		"lock":     {Name: "lock", MaxArgs: -1, Sub: static(lockNamespace)},
		"registry": {Name: "registry", MaxArgs: -1, Sub: static(registryNamespace)},
		"secrets":  {Name: "secrets", MaxArgs: -1, Sub: static(secretsNamespace)},
		"repl":     {Name: "repl"}, // kamal-go's own
	}
	top := &thor.Namespace{Options: classOptions()}
	names := kamalCommands
	if appPinsKamal1() {
		names = append(slices.Clone(names), kamal1Commands...)
	}
	for _, name := range names {
		cmd := own[name]
		switch {
		case cmd != nil:
		case isDeployCommand(name):
			cmd = deployCommand(name)
		default:
			cmd = &thor.Command{Name: name, HandedOff: true}
		}
		top.Commands = append(top.Commands, cmd)
	}
	return top
}

// kamalCommands are Kamal 2.12's top-level commands in the order its
// Main class declares them (the order Ruby's suggestions are taken in),
// with kamal-go's repl after version.
var kamalCommands = []string{
	"setup", "deploy", "redeploy", "rollback", "details", "audit", "config", "docs", "init", "remove", "upgrade", "version", "repl",
	"accessory", "app", "build", "lock", "proxy", "prune", "registry", "secrets", "server",
}

package main

import (
	"slices"
	"strings"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
)

// globalOptions are the parsed command line: Thor's class options (every
// command takes them, see classOptions), the command's own options and
// the positional arguments.
type globalOptions struct {
	verbose, quiet, primary, skipHooks, dryRun bool
	version                                    string
	hosts, roles                               string
	configFile, destination                    string
	script                                     string   // --script: the user's build script
	breaks                                     []string // --break FILE:LINE
	dap                                        string   // --dap ADDR: serve the Debug Adapter Protocol there
	trace                                      bool
	// Kamal 2.12's deploy lock waiting (--lock-wait*).
	lockWait                          bool
	lockWaitTimeout, lockWaitInterval float64
	// opts are all the options parsed (the command's own included), by
	// Thor name.
	opts thor.Values

	args []string // the command's path, then its positional arguments
}

// newGlobalOptions reads the class options out of parsed options.
func newGlobalOptions(v thor.Values) *globalOptions {
	return &globalOptions{
		verbose: v.Bool("verbose"), quiet: v.Bool("quiet"), primary: v.Bool("primary"),
		skipHooks: v.Bool("skip_hooks"), dryRun: v.Bool("dry_run"), trace: v.Bool("trace"),
		version: v.String("version"), hosts: v.String("hosts"), roles: v.String("roles"),
		configFile: v.String("config_file"), destination: v.String("destination"),
		script: v.String("script"), dap: v.String("dap"), breaks: v.Strings("break"),
		lockWait: v.Bool("lock_wait"), lockWaitTimeout: v.Float("lock_wait_timeout"), lockWaitInterval: v.Float("lock_wait_interval"),
		opts: v,
	}
}

// fromResult is a parsed command line's options and arguments; a help
// command's first argument is the command it describes, resolved.
func fromResult(res *thor.Result) *globalOptions {
	g := newGlobalOptions(res.Options)
	g.args = append(slices.Clone(res.Path), res.Args...)
	if res.Topic != "" {
		g.args[len(res.Path)] = res.Topic
	}
	return g
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// globalOptions are the parsed command line: Thor's class options (every
// command takes them), the options no command declares, and the
// positional arguments. A command's own options live in its options
// struct (see command.flags).
type globalOptions struct {
	verbose, quiet, primary, skipHooks, dryRun, help bool
	version                                          string
	hosts, roles                                     string
	configFile, destination                          string
	script                                           string   // --script: the user's build script
	breaks                                           []string // --break FILE:LINE
	dap                                              string   // --dap ADDR: serve the Debug Adapter Protocol there
	trace                                            bool
	// Kamal 2.12's deploy lock waiting (--lock-wait*).
	lockWait                          bool
	lockWaitTimeout, lockWaitInterval float64
	// extra are the options that are not global: they become keyword
	// arguments of the subcommand's function (--no-cache -> no_cache).
	extra []extraFlag

	args []string // positional: command, subcommand, ...
}

// classOption describes one global option for help, in Thor's words.
type classOption struct {
	short, long, value, desc, def string
	boolean                       bool
}

// classOptions are the options every command takes, as Thor lists them.
func classOptions() []classOption {
	return []classOption{
		{"v", "verbose", "", "Detailed logging", "", true},
		{"q", "quiet", "", "Minimal logging", "", true},
		{"", "version", "VERSION", "Run commands against a specific app version", "", false},
		{"p", "primary", "", "Run commands only on primary host instead of all", "", true},
		{"h", "hosts", "HOSTS", "Run commands on these hosts instead of all (separate by comma, supports wildcards with *)", "", false},
		{"r", "roles", "ROLES", "Run commands on these roles instead of all (separate by comma, supports wildcards with *)", "", false},
		{"c", "config-file", "CONFIG_FILE", "Path to config file", "config/deploy.yml", false},
		{"d", "destination", "DESTINATION", "Specify destination to be used for config file (staging -> deploy.staging.yml)", "", false},
		{"H", "skip-hooks", "", "Don't run hooks", "false", true},
		{"", "lock-wait", "", "Wait for the deploy lock if it's already held instead of failing immediately", "false", true},
		{"", "lock-wait-timeout", "N", "Maximum seconds to wait for the deploy lock when --lock-wait is set", "900", false},
		{"", "lock-wait-interval", "N", "Seconds between deploy lock polls when --lock-wait is set", "15", false},
		{"", "dry-run", "", "Print what would run, run nothing", "", true},
		{"", "script", "FILE", "Load this build script on top of the stock one (default .kamal/scripts/build.star)", "", false},
		{"", "trace", "", "Print every builtin call with its file:line and duration", "", true},
		{"", "break", "FILE:LINE", "Stop at this line of a script (repeatable; FILE as scripts show it, e.g. @kamal//build.star)", "", false},
		{"", "dap", "ADDR", "Wait for a Debug Adapter Protocol client (an editor) on this loopback address, e.g. 127.0.0.1:4711, and stop where it says", "", false},
	}
}

// parseFlags parses args. commandFlags returns the flag registration of
// the command named NAME (nil for none or an unknown name): the command is
// the first positional argument, and its own options are parsed together
// with the class options.
func parseFlags(args []string, commandFlags func(name string) func(*pflag.FlagSet)) (*globalOptions, error) {
	o := &globalOptions{}
	// Thor reads -h as help only as the very first argument.
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		o.help = true
		return o, nil
	}
	fs := o.flagSet()
	if f := commandFlags(commandName(fs, args)); f != nil {
		f(fs)
	}
	args = negations(fs, args)
	args, o.extra = splitExtra(fs, args)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "kamal: "))
	}
	o.args = fs.Args()
	return o, nil
}

// negations rewrites Thor's --no-NAME and --skip-NAME of a boolean
// option NAME (one that does not exist under the longer name) to
// --NAME=false.
func negations(fs *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		for _, prefix := range []string{"--no-", "--skip-"} {
			name, ok := strings.CutPrefix(a, prefix)
			if !ok || strings.Contains(name, "=") || fs.Lookup(a[2:]) != nil {
				continue
			}
			if f := fs.Lookup(name); f != nil && f.Value.Type() == "bool" {
				a = "--" + name + "=false"
				break
			}
		}
		out = append(out, a)
	}
	return out
}

// flagSet registers the class options on a new flag set.
func (o *globalOptions) flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("kamal", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.SetInterspersed(true)
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "")
	fs.StringVar(&o.version, "version", "", "")
	fs.BoolVarP(&o.primary, "primary", "p", false, "")
	fs.StringVarP(&o.hosts, "hosts", "h", "", "")
	fs.StringVarP(&o.roles, "roles", "r", "", "")
	fs.StringVarP(&o.configFile, "config-file", "c", "config/deploy.yml", "")
	fs.StringVarP(&o.destination, "destination", "d", "", "")
	fs.BoolVarP(&o.skipHooks, "skip-hooks", "H", false, "")
	fs.BoolVar(&o.dryRun, "dry-run", false, "")
	fs.BoolVar(&o.help, "help", false, "")
	fs.StringVar(&o.script, "script", "", "")
	fs.BoolVar(&o.trace, "trace", false, "")
	fs.StringArrayVar(&o.breaks, "break", nil, "")
	fs.StringVar(&o.dap, "dap", "", "")
	fs.BoolVar(&o.lockWait, "lock-wait", false, "")
	fs.Float64Var(&o.lockWaitTimeout, "lock-wait-timeout", 900, "")
	fs.Float64Var(&o.lockWaitInterval, "lock-wait-interval", 15, "")
	return fs
}

// commandName is the first positional argument of args, skipping the
// values of fs's options.
func commandName(fs *pflag.FlagSet, args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			if i+1 < len(args) {
				return args[i+1]
			}
			return ""
		case strings.HasPrefix(a, "--"):
			if f := fs.Lookup(a[2:]); f != nil && f.Value.Type() != "bool" {
				i++
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			if f := fs.ShorthandLookup(a[1:]); len(a) == 2 && f != nil && f.Value.Type() != "bool" {
				i++
			}
		default:
			return a
		}
	}
	return ""
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

// extraFlag is a --name[=value] that is not a global option.
type extraFlag struct {
	name     string // as given, with dashes
	value    string
	hasValue bool
}

// splitExtra takes the options pflag does not know out of args. A value
// after "--name" (without "=") belongs to it only once the subcommand has
// been named, since nothing positional follows a subcommand.
func splitExtra(fs *pflag.FlagSet, args []string) (rest []string, extra []extraFlag) {
	positional := 0
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if !strings.HasPrefix(a, "--") {
			if strings.HasPrefix(a, "-") {
				// A short option takes its value from the next word when it
				// is a string option.
				rest = append(rest, a)
				if f := fs.ShorthandLookup(strings.TrimPrefix(a, "-")); len(a) == 2 && f != nil && f.Value.Type() != "bool" && i+1 < len(args) {
					i++
					rest = append(rest, args[i])
				}
				continue
			}
			positional++
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(a[2:], "=")
		if f := fs.Lookup(name); f != nil {
			rest = append(rest, a)
			if !hasValue && f.Value.Type() != "bool" && i+1 < len(args) {
				i++
				rest = append(rest, args[i])
			}
			continue
		}
		if !hasValue && positional >= 2 && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			value, hasValue = args[i], true
		}
		extra = append(extra, extraFlag{name: name, value: value, hasValue: hasValue})
	}
	return rest, extra
}

package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/debugger"
	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/repl"
	"github.com/kamal-go/kamal/runtime/ruby"
	"github.com/kamal-go/kamal/runtime/runstate"
)

func newBuildCommand() *command {
	return &command{
		name: "build", usage: "kamal build", summary: "Build application image",
		help: func(ctx context.Context, c *cli, g *globalOptions) error {
			b := &buildLoader{c: c, ctx: ctx}
			defer b.close()
			if err := b.load(g, "help"); err != nil {
				return err
			}
			return buildHelp(c, b, nil)
		},
	}
}

// buildLoader loads the build scripts (the stock one, then the user's)
// for `kamal build`: their functions are its subcommands, their
// parameters the options.
//
// The parser needs that table before the subcommand is known, and Thor
// checks a command line before Kamal reads any config. The stock script's
// top level only defines functions, so without a user script commands
// loads it alone, without a config, only for the table, and the run loads
// it again with its environment once the command line is checked. A
// user's script may run anything at its top level (and read the config):
// it is loaded once, with the config, before the parse goes on.
type buildLoader struct {
	c      *cli
	ctx    context.Context
	env    *runstate.State
	owned  bool  // env was made by newEnv: close it
	envErr error // newEnv's error, for a subcommand that needs the config
	in     *interp.Interp
}

// commands returns the subcommands of `kamal build SUB` (sub as typed).
func (b *buildLoader) commands(v thor.Values, sub string) ([]buildCommand, error) {
	g := newGlobalOptions(v)
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	var in *interp.Interp
	if len(userScripts(dir, "build", g)) == 0 {
		in = interp.New(&runstate.State{Dir: dir, Log: log.New(io.Discard, false)})
		if err := in.LoadStock(b.ctx); err != nil {
			return nil, loadError{err}
		}
	} else {
		if err := b.load(g, sub); err != nil {
			return nil, err
		}
		in = b.in
	}
	var cmds []buildCommand
	for _, kc := range in.Commands() {
		cmds = append(cmds, toBuildCommand(kc))
	}
	return append(cmds, ownBuildCommands(in.Has)...), nil
}

// load loads the config and the scripts for subcommand sub (once). Help,
// api and eject need no config: when it does not load they go on without
// it, as every other subcommand stops with its error.
func (b *buildLoader) load(g *globalOptions, sub string) error {
	if b.in != nil {
		return nil
	}
	b.c.setVerbosity(g) // the config loads now: with -v, its debug lines show
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	b.env = &runstate.State{Log: b.c.log, Dir: dir}
	if e, err := b.c.newEnv(g, "build", sub); err == nil {
		b.env, b.owned = e, true
	} else if b.envErr = err; sub != "help" && sub != "api" && sub != "eject" {
		return err
	}
	b.in, err = load(b.ctx, b.c, b.env, g, "build")
	return err
}

// ownBuildCommands are kamal-go's own build subcommands no script
// defines (has reports the script's).
func ownBuildCommands(has func(string) bool) []buildCommand {
	own := []buildCommand{
		{name: "api", options: []*thor.Option{{Name: "stubs", Type: thor.String, Banner: "DIR", Desc: "Write the builtins as stubs for an editor there"}}},
		{name: "eject"},
		{name: "script"},
		{name: "test", maxArgs: -1, options: []*thor.Option{{Name: "run", Type: thor.String, Banner: "REGEXP", Desc: "Run only the tests whose name this matches"}}},
	}
	return slices.DeleteFunc(own, func(c buildCommand) bool { return has(c.name) })
}

// ownBuildHelp is `kamal build help NAME` for kamal-go's own build
// subcommands.
var ownBuildHelp = map[string]struct {
	usage   string
	options []optionRow
	desc    string
}{
	"test": {
		usage:   "test [FILE...] [--run REGEXP]",
		options: []optionRow{{left: "    [--run=REGEXP]", desc: "Run only the tests whose name this matches"}},
		desc:    "Run the test_* functions of .kamal/scripts/*_test.star (or of the FILEs) against a fake world: nothing runs, every command is recorded with its host (docs/testing-scripts.md).",
	},
	"api": {
		usage:   "api [--stubs DIR]",
		options: []optionRow{{left: "    [--stubs=DIR]", desc: "Write the builtins as stubs for an editor there"}},
		desc:    "Print every builtin scripts can call (docs/builtins.md), or write them as Python-syntax stubs for a Starlark language server (docs/editor-support.md).",
	},
}

func (b *buildLoader) close() {
	if b.owned {
		b.env.Close()
	}
}

// toBuildCommand is a script's subcommand as Thor would declare it: each
// parameter an option typed by its default (True or False a switch, a
// number numeric, a string a string; no default a required string).
func toBuildCommand(kc interp.Command) buildCommand {
	bc := buildCommand{name: kc.Name, anyOptions: kc.AnyOptions}
	for _, o := range kc.Options {
		to := &thor.Option{Name: strings.ReplaceAll(o.Name, "-", "_"), Type: thor.String, Desc: optionDescription(o.Name)}
		switch {
		case o.Bool:
			to.Type, to.Default = thor.Boolean, o.Default == "True"
		case o.Default == "":
			to.Required = true
		default:
			if s, err := strconv.Unquote(o.Default); err == nil {
				to.Default = s
			} else if f, err := strconv.ParseFloat(o.Default, 64); err == nil {
				to.Type, to.Default = thor.Numeric, f
			}
		}
		bc.options = append(bc.options, to)
	}
	return bc
}

// runBuild runs `kamal build SUB`: help, api and eject without a config,
// anything else as the function SUB of the effective script.
func runBuild(ctx context.Context, c *cli, b *buildLoader, g *globalOptions) error {
	name, args := g.args[1], g.args[2:]
	if name != "api" && name != "eject" {
		if err := b.load(g, name); err != nil {
			return err
		}
	}
	switch name {
	case "help":
		return buildHelp(c, b, args)
	case "api":
		var o apiOptions
		if g.opts.Has("stubs") {
			dir := g.opts.String("stubs")
			o.stubs = &dir
		}
		return runAPI(c.Out, o)
	case "test":
		return runTests(ctx, c, g, args)
	case "eject":
		return eject(c)
	}
	if b.envErr != nil {
		return b.envErr
	}
	c.sigs.watchLock(b.env.Lock.Held)
	if name == "script" {
		fmt.Fprint(c.Out, b.in.Effective())
		return nil
	}
	flags, err := buildFlags(b, name, g.opts, args)
	if err != nil {
		return err
	}
	kwargs, err := b.in.Kwargs(name, flags)
	if err != nil {
		return usageError(err.Error())
	}
	d, err := c.debugger(ctx, b.in, g)
	if err != nil {
		return err
	}
	defer d.End()
	return b.in.Call(ctx, name, kwargs)
}

// buildFlags are the options of subcommand name, as its function's
// keyword arguments: those it declares, from opts, and for a function
// with **kwargs the --name[=value] words Thor left over (args).
func buildFlags(b *buildLoader, name string, opts thor.Values, args []string) ([]interp.Flag, error) {
	var flags []interp.Flag
	var declared *interp.Command
	for _, kc := range b.in.Commands() {
		if kc.Name == name {
			declared = &kc
		}
	}
	if declared == nil {
		return nil, nil
	}
	for _, o := range declared.Options {
		v, ok := opts[strings.ReplaceAll(o.Name, "-", "_")]
		if !ok || v == nil {
			continue
		}
		f := interp.Flag{Name: o.Name, HasValue: true}
		switch v := v.(type) {
		case bool:
			f.Value = strconv.FormatBool(v)
		case float64:
			f.Value = strconv.FormatFloat(v, 'f', -1, 64)
		case string:
			f.Value = v
		}
		flags = append(flags, f)
	}
	for i := 0; i < len(args); i++ {
		n, value, hasValue := strings.Cut(strings.TrimPrefix(args[i], "--"), "=")
		if !strings.HasPrefix(args[i], "--") || n == "" {
			return nil, &thor.Error{Msg: fmt.Sprintf("ERROR: \"kamal build %s\" was called with arguments %s\nUsage: \"kamal build %s\"", name, ruby.InspectStrings(args[i:]), name)}
		}
		if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			value, hasValue = args[i], true
		}
		flags = append(flags, interp.Flag{Name: n, Value: value, HasValue: hasValue})
	}
	return flags, nil
}

// buildHelp prints `kamal build help [COMMAND]`: the stock subcommands and
// those of the user's script.
func buildHelp(c *cli, b *buildLoader, args []string) error {
	if len(args) >= 1 {
		for _, cmd := range b.in.Commands() {
			if cmd.Name == args[0] {
				printCommandHelp(c.Out, cmd)
				return nil
			}
		}
		if h, ok := ownBuildHelp[args[0]]; ok {
			fmt.Fprintf(c.Out, "Usage:\n  kamal build %s\n\nOptions:\n", h.usage)
			printOptionRows(c.Out, h.options...)
			fmt.Fprintf(c.Out, "\n%s\n", h.desc)
			return nil
		}
		return notFound(args[0])
	}
	printBuildHelp(c.Out, b.in.Commands())
	return nil
}

// eject writes the stock script where the user's script lives, to start
// editing from; it never overwrites.
func eject(c *cli) error {
	path := filepath.Join(userScriptsDir, "build.star")
	if _, err := os.Stat(path); err == nil {
		return usageError(path + " already exists; remove it first to eject again")
	}
	src, err := interp.StockSource()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(c.Out, "Wrote the stock script to "+path)
	return nil
}

// debugger makes breakpoint() and --break stop the run at the
// debugger's prompt on the terminal (or piped input), or, with --dap, at
// the Debug Adapter Protocol client it waits for first; its quit ends the
// run as Ctrl-C does.
func (c *cli) debugger(ctx context.Context, in *interp.Interp, o *globalOptions) (*debugger.Debugger, error) {
	d := debugger.New(in, repl.Prompt{In: c.In, Out: c.Out, HistoryFile: historyFile(), Console: c.console, Scrub: c.log.Scrub}, c.sigs.interrupt)
	for _, b := range o.breaks {
		if err := d.Break(b); err != nil {
			return nil, usageError(err.Error())
		}
	}
	if o.dap == "" {
		return d, nil
	}
	ln, err := listenDAP(o.dap)
	if err != nil {
		return nil, usageError(err.Error())
	}
	fmt.Fprintf(c.Err, "Waiting for a Debug Adapter Protocol client on %s...\n", ln.Addr())
	if err := d.ServeDAP(ctx, ln); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, usageError(err.Error())
	}
	return d, nil
}

// listenDAP listens on addr, which must be a loopback address: the
// client can run any code and command the run can.
func listenDAP(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--dap %s: want HOST:PORT (e.g. 127.0.0.1:4711)", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("--dap %s: only a loopback address is allowed (127.0.0.1:PORT): a client can run any command the run can", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--dap %s: %v", addr, err)
	}
	return ln, nil
}

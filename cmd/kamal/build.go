package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/kamal-go/kamal/builtins"
	"github.com/kamal-go/kamal/runtime/debugger"
	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/repl"
	"github.com/kamal-go/kamal/runtime/runstate"
)

// buildOptions are `kamal build SUB`'s: the class options, whose extra
// options become keyword arguments of the subcommand's function.
type buildOptions struct {
	*globalOptions
	sub []string // the subcommand and what follows it
}

func newBuildCommand() *command {
	return &command{
		name: "build", usage: "kamal build", summary: "Build application image",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			return runBuild(ctx, c, &buildOptions{globalOptions: g, sub: g.args[1:]})
		},
		help: func(ctx context.Context, c *cli, g *globalOptions) error {
			return buildHelp(ctx, c, &buildOptions{globalOptions: g})
		},
	}
}

// runBuild runs `kamal build SUB`: help, api and eject without a config,
// anything else as the function SUB of the effective script.
func runBuild(ctx context.Context, c *cli, o *buildOptions) error {
	sub := o.sub
	switch {
	case len(sub) == 0 || sub[0] == "help":
		return buildHelp(ctx, c, o)
	case o.help:
		o.sub = []string{"help", sub[0]}
		return buildHelp(ctx, c, o)
	case sub[0] == "api":
		ao, err := parseAPIOptions(o.extra)
		if err != nil {
			return err
		}
		return runAPI(c.Out, ao)
	case sub[0] == "eject":
		return eject(c)
	}
	name := sub[0]
	env, err := c.newEnv(o.globalOptions, "build", name)
	if err != nil {
		return err
	}
	defer runstate.Close(env)
	c.sigs.watchLock(env.Lock.Held)

	in, err := load(ctx, c, env, o.globalOptions)
	if err != nil {
		return err
	}
	if name == "script" {
		fmt.Fprint(c.Out, in.Effective())
		return nil
	}
	if !in.Has(name) {
		return usageError(fmt.Sprintf("Could not find command %q in \"build\" namespace.", name))
	}
	kwargs, err := in.Kwargs(name, toRuntimeFlags(o.extra))
	if err != nil {
		return usageError(err.Error())
	}
	d, err := c.debugger(ctx, in, o.globalOptions)
	if err != nil {
		return err
	}
	defer d.End()
	return in.Call(ctx, name, kwargs)
}

// buildHelp prints `kamal build help [COMMAND]`: the stock subcommands and
// those of the user's script. It needs no config, but uses it when it
// loads, since a user script may read it.
func buildHelp(ctx context.Context, c *cli, o *buildOptions) error {
	env := &builtins.Env{Log: c.log}
	if dir, err := os.Getwd(); err == nil {
		env.Dir = dir
		if e, err := c.newEnv(o.globalOptions, "build", "help"); err == nil {
			env = e
		}
	}
	in, err := load(ctx, c, env, o.globalOptions)
	if err != nil {
		return err
	}
	if len(o.sub) >= 2 {
		for _, cmd := range in.Commands() {
			if cmd.Name == o.sub[1] {
				printCommandHelp(c.Out, cmd)
				return nil
			}
		}
		return usageError(fmt.Sprintf("Could not find command %q in \"build\" namespace.", o.sub[1]))
	}
	printBuildHelp(c.Out, in.Commands())
	return nil
}

// userScripts returns the user's scripts to load on top of the stock one:
// --script, else .kamal/scripts/build.star and, with -d, build.DEST.star.
func userScripts(dir string, o *globalOptions) []string {
	if o.script != "" {
		return []string{o.script}
	}
	var out []string
	base := filepath.Join(dir, ".kamal", "scripts", "build.star")
	if _, err := os.Stat(base); err == nil {
		out = append(out, base)
	}
	if o.destination != "" {
		dest := filepath.Join(dir, ".kamal", "scripts", "build."+o.destination+".star")
		if _, err := os.Stat(dest); err == nil {
			out = append(out, dest)
		}
	}
	return out
}

// load prepares the interpreter: the stock script, then the user's. Its
// errors are loadErrors (their backtrace is always shown).
func load(ctx context.Context, c *cli, env *builtins.Env, o *globalOptions) (*interp.Interp, error) {
	in := interp.New(env)
	if o.trace {
		in.Trace(c.Err)
	}
	if err := in.LoadStock(ctx); err != nil {
		return nil, loadError{err}
	}
	for _, f := range userScripts(env.Dir, o) {
		if err := in.LoadUser(ctx, f); err != nil {
			return nil, loadError{err}
		}
	}
	return in, nil
}

// eject writes the stock script where the user's script lives, to start
// editing from; it never overwrites.
func eject(c *cli) error {
	path := filepath.Join(".kamal", "scripts", "build.star")
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
	d := debugger.New(in, repl.Prompt{In: c.In, Out: c.Out, HistoryFile: historyFile(), Console: c.console}, c.sigs.interrupt)
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

func toRuntimeFlags(extra []extraFlag) []interp.Flag {
	out := make([]interp.Flag, len(extra))
	for i, e := range extra {
		out[i] = interp.Flag{Name: e.name, Value: e.value, HasValue: e.hasValue}
	}
	return out
}

package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/runstate"
)

// runScript runs `kamal COMMAND NAME` (lock, registry) as the function
// NAME of COMMAND's effective script, with flags as its keyword
// arguments: the run's config and state, the stock script
// scripts/COMMAND.star, then the user's. NAME must be one of the
// script's subcommands (Kamal 1's registry has no setup or remove).
func runScript(ctx context.Context, c *cli, g *globalOptions, command, name string, flags []interp.Flag) error {
	env, err := c.newEnv(g, command, name)
	if err != nil {
		return err
	}
	defer env.Close()
	c.sigs.watchLock(env.Lock.Held)
	in, err := load(ctx, c, env, g, command)
	if err != nil {
		return err
	}
	if !in.Has(name) {
		return notFound(name)
	}
	kwargs, err := in.Kwargs(name, flags)
	if err != nil {
		return usageError(err.Error())
	}
	d, err := c.debugger(ctx, in, g)
	if err != nil {
		return err
	}
	defer d.End()
	return in.Call(ctx, name, kwargs)
}

// userScripts returns the user's scripts to load on top of COMMAND's
// stock one: --script, else .kamal/scripts/COMMAND.star and, with -d,
// COMMAND.DEST.star.
func userScripts(dir, command string, o *globalOptions) []string {
	if o.script != "" {
		return []string{o.script}
	}
	var out []string
	base := filepath.Join(dir, userScriptsDir, command+".star")
	if _, err := os.Stat(base); err == nil {
		out = append(out, base)
	}
	if o.destination != "" {
		// Not cleaned: the destination is pasted into the name, and a -d
		// with "../" must not reach outside .kamal/scripts (as the config
		// loader's overlay).
		dest := filepath.Join(dir, userScriptsDir) + string(filepath.Separator) + command + "." + o.destination + ".star"
		if _, err := os.Stat(dest); err == nil {
			out = append(out, dest)
		}
	}
	return out
}

// load prepares the interpreter of `kamal COMMAND`: the stock script,
// then the user's. Its errors are loadErrors (their backtrace is always
// shown).
func load(ctx context.Context, c *cli, env *runstate.State, o *globalOptions, command string) (*interp.Interp, error) {
	in := interp.NewCommand(env, command)
	if o.trace {
		in.Trace(c.Err)
	}
	if err := in.LoadStock(ctx); err != nil {
		return nil, loadError{err}
	}
	for _, f := range userScripts(env.Dir, command, o) {
		if err := in.LoadUser(ctx, f); err != nil {
			return nil, loadError{err}
		}
	}
	return in, nil
}

// userScriptsDir is where an app keeps its scripts, relative to its root
// (as Kamal keeps hooks in .kamal/hooks).
const userScriptsDir = ".kamal/scripts"

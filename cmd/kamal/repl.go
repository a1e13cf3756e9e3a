package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kamal-go/kamal/runtime/repl"
)

// replOptions are `kamal repl`'s: the class options (--dry-run runs
// nothing from the prompt).
type replOptions struct {
	*globalOptions
}

func newREPLCommand() *command {
	return &command{
		name: "repl",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			return runREPL(ctx, c, &replOptions{globalOptions: g})
		},
	}
}

// runREPL starts `kamal repl` with the config, builtins and scripts
// loaded, until the input ends.
func runREPL(ctx context.Context, c *cli, o *replOptions) error {
	env, err := c.newEnv(o.globalOptions, "build", "repl")
	if err != nil {
		return err
	}
	defer env.Close()
	in, err := load(ctx, c, env, o.globalOptions, "build")
	if err != nil {
		return err
	}
	d, err := c.debugger(ctx, in, o.globalOptions)
	if err != nil {
		return err
	}
	defer d.End()
	mode := "live"
	if o.dryRun {
		mode = "dry run"
	}
	p := repl.Prompt{In: c.In, Out: c.Out, HistoryFile: historyFile(), Console: c.console, Scrub: c.log.Scrub,
		Banner: fmt.Sprintf("kamal repl (%s; service %s, version %s). Ctrl-D leaves.", mode, env.Config.Service, env.Version)}
	if err := repl.Run(ctx, in, p, nil); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

func historyFile() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".kamal_repl_history")
	}
	return ""
}

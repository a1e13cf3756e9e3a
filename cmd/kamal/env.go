package main

import (
	"context"
	"fmt"
	"os"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/progress"
	"github.com/kamal-go/kamal/runtime/runstate"
	"golang.org/x/term"
)

// runContext is the run's context, cancelled by the first interrupt.
func (c *cli) runContext() context.Context {
	if c.sigs == nil {
		return context.Background()
	}
	return c.sigs.ctx
}

// loadConfig loads the app's configuration (-c, -d) and nothing else:
// no hosts are selected, no version resolved. Secret values are
// registered with the logger as they resolve.
func (c *cli) loadConfig(g *globalOptions) (*config.Config, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if err := checkDestination(dir, g); err != nil {
		return nil, err
	}
	return config.Load(config.Options{Context: c.runContext(), Dir: dir, Path: g.configFile, Destination: g.destination, OnSecret: c.log.AddSecret, InlineSecrets: c.inlineSecrets})
}

// checkDestination answers an empty -d (given, with no value) as Kamal does.
func checkDestination(dir string, g *globalOptions) error {
	if g.opts.Has("destination") && g.destination == "" {
		return config.EmptyDestination(dir, g.configFile)
	}
	return nil
}

// passphrase asks for a key's passphrase on the terminal when the run
// has one (its standard input), else nil: such keys must be in the agent.
func (c *cli) passphrase() func(string) ([]byte, error) {
	if c.In != nil && term.IsTerminal(int(c.In.Fd())) {
		return executor.TerminalPassphrase
	}
	return nil
}

// newEnv loads the config of the app in the working directory and
// everything a script needs for one run of `kamal COMMAND SUB`. The
// caller closes it with Close.
func (c *cli) newEnv(g *globalOptions, command, sub string) (*runstate.State, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	if err := checkDestination(dir, g); err != nil {
		return nil, err
	}
	wait := lock.Wait{On: g.lockWait, Timeout: g.lockWaitTimeout, Interval: g.lockWaitInterval}
	if err := wait.Check(); err != nil {
		return nil, err
	}
	env, err := runstate.New(runstate.Options{
		Context:       c.runContext(),
		Dir:           dir,
		Log:           c.log,
		InlineSecrets: c.inlineSecrets,
		Stderr:        c.Err,
		Passphrase:    c.passphrase(),
		Flags: runstate.Flags{
			Verbose: g.verbose, Quiet: g.quiet, SkipHooks: g.skipHooks, DryRun: g.dryRun,
			Primary: g.primary, Version: g.version, Hosts: splitList(g.hosts), Roles: splitList(g.roles),
			Destination: g.destination, ConfigFile: g.configFile, Command: command, Subcommand: sub,
			LockWait: g.lockWait, LockWaitTimeout: g.lockWaitTimeout, LockWaitInterval: g.lockWaitInterval,
		},
	})
	if err != nil {
		return nil, err
	}
	// A hook of a run that holds the deploy lock calls kamal with
	// KAMAL_LOCK=true: that kamal runs as the lock holder (Kamal 2).
	if os.Getenv("KAMAL_LOCK") == "true" {
		env.Lock.Inherit()
	}
	if err := c.setProgress(env, g); err != nil {
		env.Close()
		return nil, err
	}
	return env, nil
}

// setProgress puts --progress=condensed's live line (or x-kamal-go's
// progress: condensed) under the log: only on a terminal and without -v,
// where the log otherwise is Kamal's, unchanged.
func (c *cli) setProgress(env *runstate.State, g *globalOptions) error {
	mode := env.Config.Progress
	if g.opts.Has("progress") {
		mode = g.opts.String("progress")
	}
	switch mode {
	case "", "plain":
		return nil
	case "condensed":
	default:
		return usageError(fmt.Sprintf("--progress takes plain or condensed, got %q", mode))
	}
	if g.verbose || !isTerminal(c.Out) {
		return nil
	}
	c.progress = progress.New(c.Out)
	env.Progress = c.progress
	c.log.SetLive(c.progress)
	return nil
}

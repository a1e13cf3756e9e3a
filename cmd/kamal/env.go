package main

import (
	"os"

	"github.com/kamal-go/kamal/builtins"
	kruntime "github.com/kamal-go/kamal/runtime"
)

// newEnv loads the config of the app in the working directory and
// everything a script needs for one run of `kamal COMMAND SUB`. The
// caller closes it with kruntime.Close.
func (c *cli) newEnv(g *globalOptions, command, sub string) (*builtins.Env, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	env, err := kruntime.NewEnv(kruntime.EnvOptions{
		Dir:    dir,
		Log:    c.log,
		DryRun: g.dryRun,
		Flags: builtins.Flags{
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
		env.InheritLock()
	}
	return env, nil
}

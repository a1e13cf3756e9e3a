package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// lockOptions are `kamal lock SUB`'s: the class options and acquire's
// -m/--message.
type lockOptions struct {
	*globalOptions
	sub     []string // the subcommand and what follows it
	message string
}

func newLockCommand() *command {
	o := &lockOptions{}
	return &command{
		name: "lock", usage: "kamal lock", summary: "Manage the deploy lock",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			o.globalOptions, o.sub = g, g.args[1:]
			o.message = g.opts.String("message")
			return runLock(ctx, c, o)
		},
		help: func(_ context.Context, c *cli, _ *globalOptions) error {
			printLockHelp(c.Out)
			return nil
		},
	}
}

// lockCommands are `kamal lock`'s subcommands, as Kamal 2.12 has them.
func lockCommands() [][2]string {
	return [][2]string{
		{"acquire -m, --message=MESSAGE", "Acquire the deploy lock"},
		{"release", "Release the deploy lock"},
		{"status", "Report lock status"},
	}
}

func printLockHelp(w io.Writer) {
	rows := [][2]string{{"kamal lock help [COMMAND]", "Describe subcommands or one specific subcommand"}}
	for _, c := range lockCommands() {
		rows = append(rows, [2]string{"kamal lock " + c[0], c[1]})
	}
	sortRows(rows)
	fmt.Fprintln(w, "Commands:")
	table(w, rows)
	fmt.Fprintln(w)
	printOptions(w)
}

func printLockCommandHelp(w io.Writer, name string) bool {
	for _, c := range lockCommands() {
		if strings.Fields(c[0])[0] != name {
			continue
		}
		fmt.Fprintf(w, "Usage:\n  kamal lock %s\n\nOptions:\n", c[0])
		if name == "acquire" {
			fmt.Fprintf(w, "  -m, --message=MESSAGE  # A lock message\n")
		}
		printOptionRows(w)
		fmt.Fprintf(w, "\n%s\n", c[1])
		return true
	}
	return false
}

// runLock runs `kamal lock status|acquire|release|help`. The lock is the
// one the Kamal 1 build flows take (and Kamal 2's deploy takes): a
// directory on the primary host, so that a stale one can be seen and
// cleared.
func runLock(ctx context.Context, c *cli, o *lockOptions) error {
	stdout, logger := c.Out, c.log
	sub := o.sub
	switch {
	case len(sub) == 0 || sub[0] == "help" && len(sub) == 1:
		printLockHelp(stdout)
		return nil
	case sub[0] == "help":
		name := sub[1]
		if !printLockCommandHelp(stdout, name) {
			return notFound(name)
		}
		return nil
	}
	name := sub[0]
	switch name {
	case "status", "release":
	case "acquire":
		if o.message == "" {
			return usageError("No value provided for required options '--message'")
		}
	default:
		return notFound(name)
	}
	env, err := c.newEnv(o.globalOptions, "lock", name)
	if err != nil {
		return err
	}
	defer env.Close()
	c.sigs.watchLock(env.Lock.Held)

	if _, err := env.Hooks.Run(ctx, "pre-connect"); err != nil {
		return err
	}
	switch name {
	case "status":
		status, err := env.Lock.Status(ctx)
		if lock.Missing(err) {
			logger.Say("There is no deploy lock", "")
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, logger.Scrub(status))
	case "release":
		err := env.Lock.Remove(ctx)
		if lock.Missing(err) {
			logger.Say("There is no deploy lock", "")
			return nil
		}
		if err != nil {
			return err
		}
		logger.Say("Released the deploy lock", "")
	case "acquire":
		if err := ensureRunDirectory(ctx, env); err != nil {
			return err
		}
		if err := env.Lock.Take(ctx, o.message); err != nil {
			return err
		}
		logger.Say("Acquired the deploy lock", "")
	}
	return nil
}

// ensureRunDirectory is Kamal's `mkdir -p .kamal` on every selected host
// (in parallel), plus Kamal 1's locks directory on the primary host.
func ensureRunDirectory(ctx context.Context, env *runstate.State) error {
	err := sshkit.OnHosts(env.Selection.Hosts, env.Config.SSHKit.MaxConcurrentHosts, func(_ int, h string) error {
		_, err := env.Runner.Run(ctx, h, shell.New("mkdir", "-p", env.Config.RunDirectory), sshkit.Options{Level: log.Info})
		return err
	})
	if err != nil {
		return err
	}
	if mk := commands.MkdirLocks(env.Config); len(mk.Words) > 0 {
		_, err := env.Runner.Run(ctx, env.Selection.Primary, mk, sshkit.Options{Level: log.Info})
		return err
	}
	return nil
}

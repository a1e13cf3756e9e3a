package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/kamal-go/kamal/runtime/interp"
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

// runLock runs `kamal lock status|acquire|release|help`: help here, a
// subcommand as the function of its name in the effective lock script
// (scripts/lock.star, then the user's).
func runLock(ctx context.Context, c *cli, o *lockOptions) error {
	sub := o.sub
	switch {
	case len(sub) == 0 || sub[0] == "help" && len(sub) == 1:
		printLockHelp(c.Out)
		return nil
	case sub[0] == "help":
		name := sub[1]
		if !printLockCommandHelp(c.Out, name) {
			return notFound(name)
		}
		return nil
	}
	var flags []interp.Flag
	if sub[0] == "acquire" {
		if o.message == "" {
			return usageError("No value provided for required options '--message'")
		}
		flags = append(flags, interp.Flag{Name: "message", Value: o.message, HasValue: true})
	}
	return runScript(ctx, c, o.globalOptions, "lock", sub[0], flags)
}

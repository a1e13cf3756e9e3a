package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/repl"
)

// streams are a run's standard streams. In is a file because the prompt
// (kamal repl, breakpoint()) needs to know whether it is a terminal.
type streams struct {
	In       *os.File
	Out, Err io.Writer
}

// cli is what every command runs with: the streams, the logger writing to
// Out, and the run's signal handling. One per run; nothing outlives it.
type cli struct {
	streams
	log     *log.Logger
	console *repl.Console // Out, shared by the log and the prompt
	sigs    *interrupts
	verbose bool   // -v: Kamal's errors show their backtrace too
	ran     string // the command run, "kamal build push", for messages
}

// command is one top-level command (kamal NAME ...).
type command struct {
	name string
	// usage and summary make its row in `kamal help`; a command without a
	// summary is not listed there.
	usage, summary string
	// flags registers the command's own options (nil: none). They are
	// parsed together with the class options.
	flags func(fs *pflag.FlagSet)
	// run runs the command; g.args[0] is its name.
	run func(ctx context.Context, c *cli, g *globalOptions) error
	// help prints `kamal help NAME` (nil: Thor's "Could not find command").
	help func(ctx context.Context, c *cli, g *globalOptions) error
}

// newCommands returns the top-level commands by name. Each call makes
// fresh option values, so runs never share state.
func newCommands() map[string]*command {
	cmds := map[string]*command{}
	for _, c := range []*command{
		newBuildCommand(),
		newConfigCommand(),
		newLockCommand(),
		newREPLCommand(),
		newRegistryCommand(),
		newSecretsCommand(),
		newVersionCommand(),
	} {
		cmds[c.name] = c
	}
	cmds["help"] = newHelpCommand(cmds)
	return cmds
}

// run parses args, runs the command they name on s and returns the exit
// status.
func run(s streams, args []string) int {
	color := os.Getenv("SSHKIT_COLOR") != "" || (isTerminal(s.Out) && os.Getenv("NO_COLOR") == "")
	console := repl.NewConsole(s.Out)
	c := &cli{streams: s, log: log.New(console, color), console: console}
	return c.exitCode(c.dispatch(args))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// dispatch parses the command line and runs its command.
func (c *cli) dispatch(args []string) error {
	cmds := newCommands()
	g, err := parseFlags(args, func(name string) func(*pflag.FlagSet) {
		if cmd := cmds[name]; cmd != nil {
			return cmd.flags
		}
		return nil
	})
	if err != nil {
		return usageError(err.Error())
	}
	c.verbose = g.verbose
	switch {
	case g.quiet:
		c.log.SetThreshold(log.Error)
	case g.verbose:
		c.log.SetThreshold(log.Debug)
		os.Setenv("VERBOSE", "1") // hooks and nested kamal calls see -v
	}
	if g.help && len(g.args) < 2 || len(g.args) == 0 {
		g.args = []string{"help"}
	}
	cmd := cmds[g.args[0]]
	if cmd == nil {
		return usageError(fmt.Sprintf("Could not find command %q.", g.args[0]))
	}
	c.ran = "kamal " + strings.Join(g.args, " ")
	c.sigs = watchSignals(c.log)
	defer c.sigs.stop()
	return cmd.run(c.sigs.ctx, c, g)
}

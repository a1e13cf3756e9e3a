package main

import (
	"context"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/progress"
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
	verbose bool     // -v: Kamal's errors show their backtrace too
	ran     string   // the command run, "kamal build push", for messages
	argv    []string // the command line as given, for the retry line
	// progress is --progress=condensed's live line, nil for plain output.
	progress *progress.Line
}

// command is one top-level command (kamal NAME ...).
type command struct {
	name string
	// usage and summary make its row in `kamal help`; a command without a
	// summary is not listed there.
	usage, summary string
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
	err := c.dispatch(args)
	c.progress.Close() // cleared before the last lines, also after Ctrl-C
	return c.exitCode(err)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// dispatch parses the command line (Thor's rules, grammar.go) and runs
// its command.
func (c *cli) dispatch(args []string) error {
	cmds := newCommands()
	c.sigs = watchSignals(c.log)
	defer c.sigs.stop()
	// (An interrupt while kamal build loads its scripts names the command
	// line as typed.)
	c.ran = "kamal " + strings.Join(args, " ")
	c.argv = args
	b := &buildLoader{c: c, ctx: c.sigs.ctx}
	defer b.close()
	res, err := thor.Parse(args, grammar(b.commands))
	if err != nil {
		return err
	}
	if res.HandedOff || isDeployCommand(res.Path[0]) {
		return c.runHandedOff(res, args)
	}
	if v, given := res.Options["config_file"]; given && v == nil {
		// --no-config-file: Kamal's File.expand_path(nil), before any command.
		return kamalerr.New("TypeError", "no implicit conversion of nil into String")
	}
	g := fromResult(res)
	c.setVerbosity(g)
	c.ran = "kamal " + strings.Join(g.args, " ")
	if res.Path[0] == "build" {
		return runBuild(c.sigs.ctx, c, b, g)
	}
	return cmds[res.Path[0]].run(c.sigs.ctx, c, g)
}

// setVerbosity applies -q and -v: to the log, and to the errors'
// backtraces.
func (c *cli) setVerbosity(g *globalOptions) {
	c.verbose = g.verbose
	switch {
	case g.quiet:
		c.log.SetThreshold(log.Error)
	case g.verbose:
		c.log.SetThreshold(log.Debug)
		os.Setenv("VERBOSE", "1") // hooks and nested kamal calls see -v
	}
}

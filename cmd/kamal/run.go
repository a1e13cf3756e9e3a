package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.starlark.net/starlark"
	"golang.org/x/term"

	"github.com/kamal-go/kamal/builtins"
	kruntime "github.com/kamal-go/kamal/runtime"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
)

// Main runs kamal with args (without the program name) and returns the
// exit status.
func Main(args []string) int {
	stdout := io.Writer(os.Stdout)
	color := os.Getenv("SSHKIT_COLOR") != "" || (term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("NO_COLOR") == "")
	logger := log.New(stdout, color)

	o, err := parseFlags(args)
	if err != nil {
		logger.Fatal("ArgumentError", err.Error())
		return 1
	}
	switch {
	case o.quiet:
		logger.SetThreshold(log.Error)
	case o.verbose:
		logger.SetThreshold(log.Debug)
		os.Setenv("VERBOSE", "1")
	}
	if o.help && len(o.args) < 2 || len(o.args) == 0 || o.args[0] == "help" && len(o.args) == 1 {
		printTopHelp(stdout)
		return 0
	}
	sigs = watchSignals(logger)
	defer sigs.stop()
	ctx := sigs.ctx

	switch o.args[0] {
	case "version":
		fmt.Fprintln(stdout, compatVersion)
		return 0
	case "help":
		if o.args[1] == "build" {
			return buildHelp(ctx, stdout, logger, o, nil)
		}
		if o.args[1] == "lock" {
			printLockHelp(stdout)
			return 0
		}
		logger.Fatal("ArgumentError", fmt.Sprintf("Could not find command %q.", o.args[1]))
		return 1
	case "repl":
		return runREPL(ctx, logger, o)
	case "lock":
		return runLock(ctx, stdout, logger, o)
	case "build":
	default:
		logger.Fatal("ArgumentError", fmt.Sprintf("Could not find command %q.", o.args[0]))
		return 1
	}

	sub := o.args[1:]
	switch {
	case len(sub) == 0 || sub[0] == "help":
		return buildHelp(ctx, stdout, logger, o, sub)
	case o.help:
		return buildHelp(ctx, stdout, logger, o, []string{"help", sub[0]})
	case sub[0] == "api":
		fmt.Fprint(stdout, builtins.Reference())
		return 0
	case sub[0] == "eject":
		return eject(logger)
	}
	return runBuild(ctx, logger, o, sub[0])
}

// buildHelp prints `kamal build help [COMMAND]`: the stock subcommands and
// those of the user's script. It needs no config, but uses it when it
// loads, since a user script may read it.
func buildHelp(ctx context.Context, w io.Writer, logger *log.Logger, o *options, sub []string) int {
	env := &builtins.Env{Log: logger}
	if dir, err := os.Getwd(); err == nil {
		env.Dir = dir
		if e, err := setup(dir, logger, o, "help"); err == nil {
			env = e
		}
	}
	in, err := load(ctx, env, o)
	if err != nil {
		return fail(logger, err, true)
	}
	if len(sub) >= 2 {
		for _, c := range in.Commands() {
			if c.Name == sub[1] {
				printCommandHelp(w, c)
				return 0
			}
		}
		logger.Fatal("ArgumentError", fmt.Sprintf("Could not find command %q in \"build\" namespace.", sub[1]))
		return 1
	}
	printBuildHelp(w, in.Commands())
	return 0
}

// userScripts returns the user's scripts to load on top of the stock one:
// --script, else .kamal/scripts/build.star and, with -d, build.DEST.star.
func userScripts(dir string, o *options) []string {
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

// load prepares the interpreter: the stock script, then the user's.
func load(ctx context.Context, env *builtins.Env, o *options) (*kruntime.Interp, error) {
	in := kruntime.New(env)
	if o.trace {
		in.Trace(os.Stderr)
	}
	if err := in.LoadStock(ctx); err != nil {
		return nil, err
	}
	for _, f := range userScripts(env.Dir, o) {
		if err := in.LoadUser(ctx, f); err != nil {
			return nil, err
		}
	}
	return in, nil
}

func runBuild(ctx context.Context, logger *log.Logger, o *options, sub string) int {
	dir, err := os.Getwd()
	if err != nil {
		return fail(logger, err, o.verbose)
	}
	env, err := setup(dir, logger, o, sub)
	if err != nil {
		return fail(logger, err, o.verbose)
	}
	defer kruntime.Close(env)
	sigs.watchLock(env.LockHeld)

	in, err := load(ctx, env, o)
	if err != nil {
		return fail(logger, err, true)
	}
	if sub == "script" {
		fmt.Print(in.Effective())
		return 0
	}
	if !in.Has(sub) {
		logger.Fatal("ArgumentError", fmt.Sprintf("Could not find command %q in \"build\" namespace.", sub))
		return 1
	}
	kwargs, err := in.Kwargs(sub, toRuntimeFlags(o.extra))
	if err != nil {
		logger.Fatal("ArgumentError", err.Error())
		return 1
	}
	env.Breakpoint = breakpointPrompt(ctx, in, dir)
	if err := in.Call(ctx, sub, kwargs); err != nil {
		return fail(logger, err, o.verbose)
	}
	return 0
}

// eject writes the stock script where the user's script lives, to start
// editing from; it never overwrites.
func eject(logger *log.Logger) int {
	path := filepath.Join(".kamal", "scripts", "build.star")
	if _, err := os.Stat(path); err == nil {
		logger.Fatal("ArgumentError", path+" already exists; remove it first to eject again")
		return 1
	}
	src, err := kruntime.StockSource()
	if err != nil {
		return fail(logger, err, false)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fail(logger, err, false)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return fail(logger, err, false)
	}
	fmt.Println("Wrote the stock script to " + path)
	return 0
}

// breakpointPrompt opens the prompt on the terminal (or piped input) when
// a script calls breakpoint().
func breakpointPrompt(ctx context.Context, in *kruntime.Interp, dir string) func(*starlark.Thread, starlark.StringDict) error {
	return func(_ *starlark.Thread, locals starlark.StringDict) error {
		return in.REPL(ctx, kruntime.Prompt{In: os.Stdin, Out: os.Stdout, HistoryFile: historyFile()}, locals)
	}
}

// runREPL starts `kamal repl` with the config, builtins and scripts loaded.
func runREPL(ctx context.Context, logger *log.Logger, o *options) int {
	dir, err := os.Getwd()
	if err != nil {
		return fail(logger, err, o.verbose)
	}
	env, err := setup(dir, logger, o, "repl")
	if err != nil {
		return fail(logger, err, o.verbose)
	}
	defer kruntime.Close(env)
	in, err := load(ctx, env, o)
	if err != nil {
		return fail(logger, err, true)
	}
	env.Breakpoint = breakpointPrompt(ctx, in, dir)
	mode := "live"
	if o.dryRun {
		mode = "dry run"
	}
	p := kruntime.Prompt{In: os.Stdin, Out: os.Stdout, HistoryFile: historyFile(),
		Banner: fmt.Sprintf("kamal repl (%s; service %s, version %s). Ctrl-D leaves.", mode, env.Config.Service, env.Version)}
	if err := in.REPL(ctx, p, nil); err != nil && !errors.Is(err, context.Canceled) {
		return fail(logger, err, o.verbose)
	}
	return 0
}

func historyFile() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".kamal_repl_history")
	}
	return ""
}

// setup loads the config and everything the script needs for one run.
func setup(dir string, logger *log.Logger, o *options, sub string) (*builtins.Env, error) {
	return setupCommand(dir, logger, o, "build", sub)
}

func setupCommand(dir string, logger *log.Logger, o *options, command, sub string) (*builtins.Env, error) {
	env, err := kruntime.NewEnv(kruntime.EnvOptions{
		Dir:    dir,
		Log:    logger,
		DryRun: o.dryRun,
		Flags: builtins.Flags{
			Verbose: o.verbose, Quiet: o.quiet, SkipHooks: o.skipHooks, DryRun: o.dryRun,
			Primary: o.primary, Version: o.version, Hosts: splitList(o.hosts), Roles: splitList(o.roles),
			Destination: o.destination, ConfigFile: o.configFile, Command: command, Subcommand: sub,
			LockWait: o.lockWait, LockWaitTimeout: o.lockWaitTimeout, LockWaitInterval: o.lockWaitInterval,
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

// sigs handles SIGINT and SIGTERM during Main.
var sigs *interrupts

// fail prints Kamal's error line for err and returns the exit status. A
// script error (a bug in a Starlark file rather than a failed step) always
// shows its backtrace; Kamal's own errors show it only with -v, as Kamal
// prints Ruby backtraces only when VERBOSE is set.
func fail(logger *log.Logger, err error, verbose bool) int {
	if sigs != nil {
		if s := sigs.signal(); s != nil {
			logger.Fatal("Interrupt", describeInterrupt(err))
			return exitStatus(s)
		}
	}
	class, msg := classify(err)
	var ee *starlark.EvalError
	if errors.As(err, &ee) && (verbose || class == "") {
		fmt.Fprint(os.Stderr, logger.Scrub(ee.Backtrace())+"\n")
	}
	if class == "" {
		class = "RuntimeError"
	}
	logger.Fatal(class, msg)
	return 1
}

// classify finds the Ruby class Kamal would name and the message, looking
// through Starlark's error wrapping. An empty class means nothing in the
// chain carries a Kamal class: the error is the script's own (a bad
// argument, fail(), a typo), and deserves its backtrace.
func classify(err error) (class, msg string) {
	// The outermost classed error wins: a host's failure keeps its
	// "Exception while executing on host ..." prefix.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if k, ok := e.(*kamalerr.Error); ok {
			return k.Class, k.Message
		}
		if c, ok := e.(interface{ Class() string }); ok {
			return c.Class(), e.Error()
		}
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		// A script's own error names the script line it happened on.
		if fr, ok := scriptFrame(ee); ok {
			return "", fmt.Sprintf("%s: %s", fr.Pos, ee.Msg)
		}
		return "", ee.Msg
	}
	return "", err.Error()
}

// scriptFrame is the innermost frame of ee that is in a script file (not
// a builtin).
func scriptFrame(ee *starlark.EvalError) (starlark.CallFrame, bool) {
	for i := 0; i < len(ee.CallStack); i++ {
		fr := ee.CallStack.At(i)
		if fr.Pos.IsValid() && fr.Pos.Filename() != "<builtin>" {
			return fr, true
		}
	}
	return starlark.CallFrame{}, false
}

func toRuntimeFlags(extra []extraFlag) []kruntime.Flag {
	out := make([]kruntime.Flag, len(extra))
	for i, e := range extra {
		out[i] = kruntime.Flag{Name: e.name, Value: e.value, HasValue: e.hasValue}
	}
	return out
}

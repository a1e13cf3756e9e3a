package main

import (
	"errors"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// usageError is a command line Kamal (Thor) rejects before doing
// anything: it ends with "ERROR (ArgumentError): ..." and exit status 1.
type usageError string

func (e usageError) Error() string { return string(e) }
func (e usageError) Class() string { return kamalerr.ClassArgument }

// notFound is Thor's answer to a command name a namespace does not have
// (Kamal names no namespace in it).
func notFound(name string) error {
	return &thor.Error{Msg: "Could not find command " + ruby.InspectString(name) + "."}
}

// loadError is a failure to load a script: its Starlark backtrace is
// shown even without -v, since it points at the user's file.
type loadError struct{ err error }

func (e loadError) Error() string { return e.err.Error() }
func (e loadError) Unwrap() error { return e.err }

// exitCode prints Kamal's last line for err and returns the exit status:
// 0 for nil, 128+signal after an interrupt, else 1. This is the one place
// errors become exit statuses.
//
// A script error (a bug in a Starlark file rather than a failed step)
// always shows its backtrace; Kamal's own errors show it only with -v, as
// Kamal prints Ruby backtraces only when VERBOSE is set.
func (c *cli) exitCode(err error) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, errTestsFailed) {
		return 1
	}
	var ho handOffExit
	if errors.As(err, &ho) {
		return int(ho) // the app's Kamal said all there was to say
	}
	if c.sigs != nil {
		if s := c.sigs.signal(); s != nil {
			c.log.Fatal("Interrupt", describeInterrupt(err, c.ran))
			return exitStatus(s)
		}
	}
	var te *thor.Error
	if errors.As(err, &te) {
		// Thor's own answer: its lines on standard error, nothing else.
		fmt.Fprintln(c.Err, te.Msg)
		return 1
	}
	var exit *kamalerr.Exit
	if errors.As(err, &exit) {
		return exit.Status
	}
	class, msg := classify(err)
	var ee *starlark.EvalError
	var le loadError
	if errors.As(err, &ee) && (c.verbose || class == "" || errors.As(err, &le)) {
		fmt.Fprint(c.Err, c.log.Scrub(traceback(ee)))
	}
	if class == "" {
		class = kamalerr.ClassRuntime
	}
	c.log.Fatal(class, msg)
	if line := retryLine(err, c.argv); line != "" {
		c.log.Say("  "+line, "red")
	}
	return 1
}

// traceback is ee's "Traceback (most recent call last):" and the frames
// of the script files, without Starlark's closing "Error in fn: message"
// line: the message is printed once, on the ERROR line after it, as Kamal
// (bin/kamal) prints its message once and then only the backtrace's
// frames.
func traceback(ee *starlark.EvalError) string {
	stack := ee.CallStack
	if n := len(stack); n > 0 && stack[n-1].Pos.Filename() == "<builtin>" {
		stack = stack[:n-1] // Backtrace() drops it too: the message names it
	}
	return stack.String()
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

// Command kamal builds an app image, pushes it to a registry and pulls it
// on every server, the way `kamal build` does, from the same
// config/deploy.yml. The flow itself is a Starlark script inside the
// binary; this package only parses flags and config and hands over to it.
//
// Layout: one file per command (build.go, lock.go, repl.go, ...), each an
// options struct, a constructor registering its flags, and a run function
// taking a context and the injected streams (cli.go). Errors travel back
// to exitCode (errors.go), the one place that prints Kamal's last line and
// picks the exit status.
package main

import (
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target (GOGC) unless the GOGC
// environment variable sets one. Most of what a fan-out to many hosts
// holds is live (SSH connections, their goroutines' stacks), and at the
// default 100 the heap may grow to twice that before a collection:
// measured on 1000 loopback hosts behind 63 sshds (`kamal build pull`,
// Kamal 1 flow, one run each; tests/bench/scale measures peak memory),
// peak memory 119.6 MB at 100, 114.2 MB at 50, 98.3 MB at 25, with the
// same client CPU (5.1, 4.9, 5.0 s). The heaps are small, so the more
// frequent collections cost little.
const gcPercent = 25

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(Main(os.Args[1:]))
}

// Main runs kamal with args (without the program name) on the process's
// standard streams and returns the exit status.
func Main(args []string) int {
	return run(streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, args)
}

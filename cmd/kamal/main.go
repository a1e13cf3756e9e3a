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
)

func main() {
	os.Exit(Main(os.Args[1:]))
}

// Main runs kamal with args (without the program name) on the process's
// standard streams and returns the exit status.
func Main(args []string) int {
	return run(streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, args)
}

// Command kamal builds an app image, pushes it to a registry and pulls it
// on every server, the way `kamal build` does, from the same
// config/deploy.yml. The flow itself is a Starlark script inside the
// binary; this package only parses flags and config and hands over to it.
package main

import (
	"os"
)

func main() {
	os.Exit(Main(os.Args[1:]))
}

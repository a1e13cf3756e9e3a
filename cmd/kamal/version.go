package main

import (
	"context"
	"fmt"

	"github.com/kamal-go/kamal/builtins"
)

// compatVersion is the newest Kamal release this binary follows; `kamal
// version` prints it. (An app's minimum_version is checked against the
// release its generation follows, config.Release: 1.5.2, 1.9.2 or 2.12.0.)
const compatVersion = builtins.CompatVersion

func newVersionCommand() *command {
	return &command{
		name: "version", usage: "kamal version", summary: "Show Kamal version",
		run: func(_ context.Context, c *cli, _ *globalOptions) error {
			fmt.Fprintln(c.Out, compatVersion)
			return nil
		},
	}
}

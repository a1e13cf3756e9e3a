package main

import (
	"context"
	"fmt"

	"github.com/kamal-go/kamal/builtins"
)

// compatVersion is the Kamal release whose behaviour this binary follows;
// `kamal version` prints it, and config minimum_version is checked against it.
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

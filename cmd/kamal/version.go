package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/kamal-go/kamal/builtins"
)

// compatVersion is the newest Kamal release this binary follows; `kamal
// version` prints it. (An app's minimum_version is checked against the
// release its generation follows, config.Release: 1.5.2, 1.9.2 or 2.12.0.)
const compatVersion = builtins.CompatVersion

// newVersionCommand prints the Kamal release followed, the one line
// scripts parse; with -v a second line names kamal-go's own version.
func newVersionCommand() *command {
	return &command{
		name: "version", usage: "kamal version", summary: "Show Kamal version",
		run: func(_ context.Context, c *cli, g *globalOptions) error {
			fmt.Fprintln(c.Out, compatVersion)
			if g.verbose {
				info, ok := debug.ReadBuildInfo()
				fmt.Fprintln(c.Out, "kamal-go "+kamalGoVersion(info, ok))
			}
			return nil
		},
	}
}

// kamalGoVersion is this binary's own version from its build info: the
// module version (`go install …/cmd/kamal@v1.2.0` gives v1.2.0, a build in
// a git checkout Go's pseudo-version naming the commit); without one, the
// VCS revision Go stamped ("-modified" when the tree had changes); else
// "(devel)".
func kamalGoVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "(devel)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		return "(devel)"
	}
	if modified == "true" {
		rev += "-modified"
	}
	return rev
}

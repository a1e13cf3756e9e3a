package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/scripttest"
)

// errTestsFailed ends `kamal build test` with exit status 1 and no error
// line: the summary line has said it.
var errTestsFailed = errors.New("tests failed")

// testOptions are `kamal build test [FILE...] [--run REGEXP]`'s.
type testOptions struct {
	files []string
	run   *regexp.Regexp
}

// parseTestOptions reads test's files and its --run.
func parseTestOptions(files []string, v thor.Values) (testOptions, error) {
	o := testOptions{files: files}
	if v.Has("run") {
		re, err := regexp.Compile(v.String("run"))
		if err != nil {
			return o, usageError(fmt.Sprintf("--run %s: %v", v.String("run"), err))
		}
		o.run = re
	}
	return o, nil
}

// runTests runs the app's script tests against a fake world.
func runTests(ctx context.Context, c *cli, g *globalOptions, files []string) error {
	o, err := parseTestOptions(files, g.opts)
	if err != nil {
		return err
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	sum, err := scripttest.Run(ctx, scripttest.Options{
		Dir: dir, Files: o.files, Run: o.run, Scripts: userScripts(dir, "build", g), Out: c.Out, Verbose: g.verbose,
		Flags: runstate.Flags{
			Verbose: g.verbose, Quiet: g.quiet, SkipHooks: g.skipHooks, Primary: g.primary, Version: g.version,
			Hosts: splitList(g.hosts), Roles: splitList(g.roles), Destination: g.destination, ConfigFile: g.configFile,
		},
	})
	if err != nil {
		return loadError{err}
	}
	if sum.Failed > 0 {
		return errTestsFailed
	}
	return nil
}

package main

import (
	"context"

	"github.com/kamal-go/kamal/runtime/interp"
)

// registryOptions are `kamal registry SUB`'s: the class options and
// -L/--skip-local, -R/--skip-remote.
type registryOptions struct {
	*globalOptions
	sub                   []string
	skipLocal, skipRemote bool
}

// registrySubcommands are Kamal 2.12's (Kamal 1 has login and logout).
func registrySubcommands() []subcommand {
	skips := []optionRow{
		{left: "-L, [--skip-local]", desc: "Skip local login", def: "false"},
		{left: "-R, [--skip-remote]", desc: "Skip remote login", def: "false"},
	}
	return []subcommand{
		{name: "setup", desc: "Setup local registry or log in to remote registry locally and remotely", options: skips},
		{name: "remove", desc: "Remove local registry or log out of remote registry locally and remotely", options: skips},
		{name: "login", desc: "Log in to remote registry locally and remotely", options: skips},
		{name: "logout", desc: "Log out of remote registry locally and remotely", options: skips},
	}
}

func newRegistryCommand() *command {
	o := &registryOptions{}
	return &command{
		name: "registry", usage: "kamal registry", summary: "Login and -out of the image registry",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			o.globalOptions, o.sub = g, g.args[1:]
			o.skipLocal, o.skipRemote = g.opts.Bool("skip_local"), g.opts.Bool("skip_remote")
			return runRegistry(ctx, c, o)
		},
		help: func(_ context.Context, c *cli, _ *globalOptions) error {
			printNamespaceHelp(c.Out, "registry", registrySubcommands())
			return nil
		},
	}
}

// runRegistry runs `kamal registry setup|remove|login|logout|help`: help
// here, a subcommand as the function of its name in the effective
// registry script (scripts/registry.star, then the user's).
func runRegistry(ctx context.Context, c *cli, o *registryOptions) error {
	sub := o.sub
	switch {
	case len(sub) == 0 || sub[0] == "help" && len(sub) == 1:
		printNamespaceHelp(c.Out, "registry", registrySubcommands())
		return nil
	case sub[0] == "help":
		return printSubcommandHelp(c.Out, "registry", registrySubcommands(), sub[1])
	}
	name := sub[0]
	switch name {
	case "setup", "remove", "login", "logout":
	default:
		return notFound(name)
	}
	var flags []interp.Flag
	if o.skipLocal {
		flags = append(flags, interp.Flag{Name: "skip-local"})
	}
	if o.skipRemote {
		flags = append(flags, interp.Flag{Name: "skip-remote"})
	}
	return runScript(ctx, c, o.globalOptions, "registry", name, flags)
}

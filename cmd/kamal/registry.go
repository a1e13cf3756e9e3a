package main

import (
	"context"
	"strings"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
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

// runRegistry runs `kamal registry setup|remove|login|logout|help`:
// docker login (or logout) on this machine, then on every selected host
// in parallel, each skippable. The password reaches docker on its
// standard input (runtime/commands Login), never in any arguments.
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
	env, err := c.newEnv(o.globalOptions, "registry", name)
	if err != nil {
		return err
	}
	defer env.Close()
	cfg := env.Config
	kamal1 := cfg.Generation == config.Kamal1
	if kamal1 && (name == "setup" || name == "remove") {
		return notFound(name)
	}
	local := cfg.Registry.Local && !kamal1
	switch {
	case name == "login" && local:
		return kamalerr.New(kamalerr.ClassRuntime, "Cannot use login command with a local registry. Use `kamal registry setup` instead.")
	case name == "logout" && local:
		return kamalerr.New(kamalerr.ClassRuntime, "Cannot use logout command with a local registry. Use `kamal registry remove` instead.")
	}
	r := &registryRun{ctx: ctx, env: env}
	if name == "setup" || name == "login" {
		if !kamal1 && !o.skipLocal {
			if err := r.checkDocker(); err != nil {
				return err
			}
		}
		if local {
			if o.skipLocal {
				return nil
			}
			_, err := env.Runner.Run(ctx, "", commands.LocalRegistryStart(cfg), sshkit.Options{Level: log.Info})
			return err
		}
		login, err := env.RegistryLogin()
		if err != nil {
			return err
		}
		return r.everywhere(login, o.skipLocal, o.skipRemote)
	}
	if local {
		if !o.skipLocal {
			// Kamal runs it with raise_on_non_zero_exit: false.
			env.Runner.Run(ctx, "", commands.LocalRegistryRemove(cfg), sshkit.Options{Level: log.Info})
		}
		return nil
	}
	return r.everywhere(commands.Logout(cfg), o.skipLocal, o.skipRemote)
}

// registryRun is one run of a registry subcommand.
type registryRun struct {
	ctx context.Context
	env *runstate.State
}

// checkDocker is Kamal 2's ensure_docker_installed.
func (r *registryRun) checkDocker() error {
	res, err := r.env.Runner.Run(r.ctx, "", r.env.Builder.EnsureInstalled(), sshkit.Options{Level: log.Info})
	if err == nil {
		return nil
	}
	if r.ctx.Err() != nil {
		return err
	}
	msg := "Docker buildx plugin is not installed locally"
	if strings.Contains(res.Stdout+res.Stderr+err.Error(), "command not found") {
		msg = "Docker is not installed locally"
	}
	return kamalerr.New(kamalerr.ClassDependency, msg)
}

// everywhere runs cmd locally, then (after the pre-connect hook, as
// Kamal's first `on`) on every selected host in parallel.
func (r *registryRun) everywhere(cmd *shell.Command, skipLocal, skipRemote bool) error {
	if !skipLocal {
		if _, err := r.env.Runner.Run(r.ctx, "", cmd, sshkit.Options{Level: log.Info}); err != nil {
			return err
		}
	}
	if skipRemote {
		return nil
	}
	if _, err := r.env.Hooks.Run(r.ctx, "pre-connect"); err != nil {
		return err
	}
	return onHosts(r.ctx, r.env, r.env.Selection.Hosts, cmd)
}

// onHosts runs cmd on every host in parallel (at most
// sshkit.max_concurrent_hosts at once) and returns the failures in
// SSHKit's form, in host order.
func onHosts(ctx context.Context, env *runstate.State, hosts []string, cmd *shell.Command) error {
	return sshkit.OnHosts(hosts, env.Config.SSHKit.MaxConcurrentHosts, func(_ int, h string) error {
		_, err := env.Runner.Run(ctx, h, cmd, sshkit.Options{Level: log.Info})
		return err
	})
}

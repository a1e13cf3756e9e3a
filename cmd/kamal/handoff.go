package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/handoff"
)

// deployLabel is the stock script of deploy, redeploy and setup.
const deployLabel = "@kamal//deploy.star"

// handedOff are the commands of Kamal's CLI that kamal-go leaves to the
// app's own Kamal, with their usage and summary as Kamal 2.12 (or, for
// traefik, env and healthcheck, Kamal 1) lists them. deploy, redeploy and
// setup build with kamal-go first (deployCommand).
var handedOff = map[string][2]string{
	"accessory":   {"kamal accessory", "Manage accessories (db/redis/search)"},
	"app":         {"kamal app", "Manage application"},
	"audit":       {"kamal audit", "Show audit log from servers"},
	"deploy":      {"kamal deploy", "Deploy app to servers"},
	"details":     {"kamal details", "Show details about all containers"},
	"docs":        {"kamal docs [SECTION]", "Show Kamal configuration documentation"},
	"init":        {"kamal init", "Create config stub in config/deploy.yml and secrets stub in .kamal"},
	"proxy":       {"kamal proxy", "Manage kamal-proxy"},
	"prune":       {"kamal prune", "Prune old application images and containers"},
	"redeploy":    {"kamal redeploy", "Deploy app to servers without bootstrapping servers, starting kamal-proxy, pruning, and registry login"},
	"remove":      {"kamal remove", "Remove kamal-proxy, app, accessories, and registry session from servers"},
	"rollback":    {"kamal rollback [VERSION]", "Rollback app to VERSION"},
	"server":      {"kamal server", "Bootstrap servers with curl and Docker"},
	"setup":       {"kamal setup", "Setup all accessories, push the env, and deploy app to servers"},
	"upgrade":     {"kamal upgrade", "Upgrade from Kamal 1.x to 2.0"},
	"traefik":     {"kamal traefik", "Manage Traefik load balancer"},
	"env":         {"kamal env", "Manage environment files"},
	"healthcheck": {"kamal healthcheck", "Healthcheck application"},
}

// kamal1Commands are Kamal 1's top-level commands Kamal 2 dropped: handed
// off too, for apps pinned to 1.x (a Kamal 2 answers them with its own
// Could not find command).
var kamal1Commands = []string{"env", "healthcheck", "traefik"}

// appPinsKamal1 reports whether the app in the working directory locks a
// Kamal 1 release: its CLI then has traefik, env and healthcheck, which
// kamal-go hands off too.
func appPinsKamal1() bool {
	dir, err := os.Getwd()
	if err != nil {
		return false
	}
	v, _, found, err := config.LockedKamal(dir, os.LookupEnv)
	return err == nil && found && strings.HasPrefix(v, "1.")
}

// isDeployCommand: the commands kamal-go builds for before handing off.
func isDeployCommand(name string) bool {
	return name == "deploy" || name == "redeploy" || name == "setup"
}

// deployCommand is deploy, redeploy or setup as the parser sees it:
// Kamal's -P/--skip-push, --no-cache for kamal-go's push, and --serve only
// to refuse it.
func deployCommand(name string) *thor.Command {
	return &thor.Command{Name: name, Options: []*thor.Option{
		{Name: "skip_push", Aliases: []string{"-P"}, Type: thor.Boolean, Default: false, Desc: "Skip image build and push"},
		{Name: "no_cache", Type: thor.Boolean, Default: false, Desc: "Build without using Docker's build cache"},
		{Name: "serve", Type: thor.Boolean, Hide: true},
	}}
}

// handOffExit is the exit status of the app's Kamal after a hand-off:
// kamal-go exits with it and prints nothing more.
type handOffExit int

func (e handOffExit) Error() string {
	return fmt.Sprintf("the app's Kamal exited with status %d", int(e))
}

// runHandedOff runs a command of the app's own Kamal: looked up first, so
// that a missing Kamal fails before anything runs; then handed the
// command line unchanged (args), or, for deploy, redeploy and setup
// without -P, after kamal-go's build push (runDeploy).
func (c *cli) runHandedOff(res *thor.Result, args []string) error {
	name := res.Path[0]
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	k, err := handoff.Finder{Dir: dir}.Find(name)
	if err != nil {
		return err
	}
	if res.HandedOff {
		return c.handOff(dir, k, res.Argv)
	}
	g := fromResult(res)
	c.setVerbosity(g)
	switch {
	case g.opts.Bool("serve"):
		return usageError(fmt.Sprintf("--serve cannot be combined with kamal %s: the app's Kamal pulls the image from the registry (use kamal build deliver --serve)", name))
	case g.opts.Bool("skip_push"):
		return c.handOff(dir, k, args)
	}
	return c.runDeploy(c.sigs.ctx, dir, k, g, args)
}

// handOff runs k with args and returns its exit status as a handOffExit.
// Signals go to it while it runs (it decides what they do).
func (c *cli) handOff(dir string, k *handoff.Kamal, args []string) error {
	code, err := c.runKamal(dir, k, args)
	if err != nil {
		return err
	}
	return handOffExit(code)
}

func (c *cli) runKamal(dir string, k *handoff.Kamal, args []string) (int, error) {
	sigs := make(chan os.Signal, 2)
	defer c.sigs.forwardTo(sigs)()
	var stdin io.Reader
	if c.In != nil {
		stdin = c.In
	}
	return handoff.Run(k.Command(dir, args, os.Environ(), stdin, c.Out, c.Err), sigs)
}

// runDeploy runs deploy, redeploy or setup as the stock deploy script
// (or the user's .kamal/scripts/deploy.star) says: kamal-go's build push,
// then hand_off with --skip-push and the version pushed.
func (c *cli) runDeploy(ctx context.Context, dir string, k *handoff.Kamal, g *globalOptions, args []string) error {
	name := g.args[0]
	env, err := c.newEnv(g, name, "")
	if err != nil {
		return err
	}
	defer env.Close()
	// Kamal would refuse the config after kamal-go had built and pushed.
	if err := env.Config.HandOffError(); err != nil {
		return err
	}
	code := -1
	env.HandOff = func(_ context.Context, extra []string) (int, error) {
		argv := append(withoutKamalGoOptions(args), extra...)
		c.log.Say(fmt.Sprintf("Handing over to the app's Kamal (%s): kamal %s", k.Found, strings.Join(argv, " ")), "magenta")
		if g.dryRun {
			code = 0
			return 0, nil
		}
		n, err := c.runKamal(dir, k, argv)
		code = n
		return n, err
	}
	in, err := load(ctx, c, env, g, "build")
	if err != nil {
		return err
	}
	if err := in.LoadStockScript(ctx, deployLabel); err != nil {
		return loadError{err}
	}
	if user := filepath.Join(dir, userScriptsDir, "deploy.star"); fileExists(user) && g.script == "" {
		if err := in.LoadUser(ctx, user); err != nil {
			return loadError{err}
		}
	}
	c.sigs.watchLock(env.Lock.Held)
	d, err := c.debugger(ctx, in, g)
	if err != nil {
		return err
	}
	defer d.End()
	var kwargs []starlark.Tuple
	if g.opts.Bool("no_cache") {
		kwargs = append(kwargs, starlark.Tuple{starlark.String("no_cache"), starlark.True})
	}
	if err := in.Call(ctx, name, kwargs); err != nil {
		return err
	}
	if code > 0 {
		return handOffExit(code)
	}
	return nil
}

// kamalGoOptions are kamal-go's own class options, which the app's Kamal
// does not have: true for those taking a value.
var kamalGoOptions = map[string]bool{"--dry-run": false, "--trace": false, "--script": true, "--break": true, "--dap": true}

// withoutKamalGoOptions is args without kamal-go's own options (with their
// values), as the app's Kamal is to see the command line after kamal-go's
// build: --dry-run, --trace, --script, --break and --dap were kamal-go's.
func withoutKamalGoOptions(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		name, _, hasValue := strings.Cut(args[i], "=")
		takesValue, own := kamalGoOptions[name]
		if !own {
			out = append(out, args[i])
			continue
		}
		if takesValue && !hasValue && i+1 < len(args) {
			i++
		}
	}
	return out
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// handOffHelp is `kamal help NAME` for a handed-off command: the app's
// Kamal describes its own command.
func (c *cli) handOffHelp(name string) error {
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	k, err := handoff.Finder{Dir: dir}.Find("help " + name)
	if err != nil {
		return err
	}
	return c.handOff(dir, k, []string{"help", name})
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/ruby"
	"github.com/kamal-go/kamal/runtime/secrets"
	"github.com/kamal-go/kamal/runtime/shell"
)

// secretsOptions are `kamal secrets SUB`'s: the class options and
// fetch's --adapter, --account, --from (and Kamal's hidden --inline).
type secretsOptions struct {
	*globalOptions
	sub                    []string
	adapter, account, from string
	inline                 bool
}

// secretsSubcommands are `kamal secrets`'s, as Kamal 2.12 has them.
func secretsSubcommands() []subcommand {
	return []subcommand{
		{name: "fetch", args: "[SECRETS...] -a, --adapter=ADAPTER", desc: "Fetch secrets from a vault", options: []optionRow{
			{left: "-a, --adapter=ADAPTER", desc: "Which vault adapter to use"},
			{left: "    [--account=ACCOUNT]", desc: "The account identifier or username"},
			{left: "    [--from=FROM]", desc: "A vault or folder to fetch the secrets from"},
		}},
		{name: "extract", desc: "Extract a single secret from the results of a fetch call"},
		{name: "print", desc: "Print the secrets (for debugging)"},
	}
}

func newSecretsCommand() *command {
	o := &secretsOptions{}
	return &command{
		name: "secrets", usage: "kamal secrets", summary: "Helpers for extracting secrets",
		run: func(ctx context.Context, c *cli, g *globalOptions) error {
			o.globalOptions, o.sub = g, g.args[1:]
			o.adapter, o.account, o.from = g.opts.String("adapter"), g.opts.String("account"), g.opts.String("from")
			o.inline = g.opts.Bool("inline")
			return runSecrets(ctx, c, o)
		},
		help: func(_ context.Context, c *cli, _ *globalOptions) error {
			printNamespaceHelp(c.Out, "secrets", secretsSubcommands())
			return nil
		},
	}
}

// runSecrets runs `kamal secrets fetch|extract|print|help`. Fetch and
// extract print their result on standard output (what $(...) in a
// secrets file captures); their errors end with Kamal's ERROR line.
func runSecrets(ctx context.Context, c *cli, o *secretsOptions) error {
	sub := o.sub
	switch {
	case len(sub) == 0 || sub[0] == "help" && len(sub) == 1:
		printNamespaceHelp(c.Out, "secrets", secretsSubcommands())
		return nil
	case sub[0] == "help":
		return printSubcommandHelp(c.Out, "secrets", secretsSubcommands(), sub[1])
	}
	args := sub[1:]
	switch sub[0] {
	case "fetch":
		return secretsFetch(ctx, c, o, args)
	case "extract": // (the parser checked the arguments, as Thor does)
		value, err := secrets.Extract(args[0], args[1])
		if err != nil {
			return err
		}
		c.log.AddSecret(value)
		fmt.Fprintln(c.Out, value)
		return nil
	case "print":
		return secretsPrint(c, o)
	}
	return notFound(sub[0])
}

// secretsFetch is `kamal secrets fetch`: the vendor CLI's secrets as
// one JSON object, shell-escaped with --inline.
func secretsFetch(ctx context.Context, c *cli, o *secretsOptions, names []string) error {
	if o.adapter == "" {
		return usageError("No value provided for required options '--adapter'")
	}
	needsAccount, err := secrets.RequiresAccount(o.adapter)
	if err != nil {
		return err
	}
	if needsAccount && o.account == "" {
		// Kamal prints this with puts and succeeds.
		fmt.Fprintln(c.Out, "No value provided for required options '--account'")
		return nil
	}
	res, err := secrets.Fetch(ctx, secrets.ExecRunner(c.In, c.Err), o.adapter, names, o.account, o.from)
	if err != nil {
		return err
	}
	// Whatever a vault hands out is secret: keep it out of any line this
	// process logs (an error naming a value, say).
	c.log.AddSecret(res.Strings()...)
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	text := string(out)
	if o.inline {
		// Only inside a secrets file (Kamal 2.10+, cli/secrets.rb): the
		// JSON is spliced into the next $(kamal secrets extract …) line,
		// which is split like a shell's words. On the command line it is
		// plain JSON, for jq and the like.
		text = shell.Shellwords(text)
	}
	fmt.Fprintln(c.Out, text)
	return nil
}

// secretsPrint is `kamal secrets print`: every secret of the config's
// secrets files as KEY=VALUE, in file order, as Kamal prints them (this
// command exists to show them).
func secretsPrint(c *cli, o *secretsOptions) error {
	cfg, err := c.loadConfig(o.globalOptions)
	if err != nil {
		return err
	}
	all, err := cfg.Secrets().All()
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, kv := range all {
		fmt.Fprintf(&b, "%s=%s\n", kv.Key, kv.Value)
	}
	fmt.Fprint(c.Out, b.String())
	return nil
}

// inlineSecrets runs `kamal ARGS...` (a secrets file's $(kamal secrets
// ...)) in this process, as Kamal does, and returns what it printed. Its
// error is returned as is, so the run ends with it.
func (c *cli) inlineSecrets(args []string) (string, error) {
	noBuild := func(thor.Values, string) ([]buildCommand, error) {
		return nil, fmt.Errorf("kamal build cannot run inside a secrets file")
	}
	res, err := thor.Parse(args, grammar(noBuild))
	if err != nil {
		return "", err
	}
	if res.HandedOff || res.Path[0] != "secrets" {
		return "", &thor.Error{Msg: fmt.Sprintf("Could not find command %s.", ruby.InspectString(strings.Join(args, " ")))}
	}
	g := fromResult(res)
	var out strings.Builder
	inner := &cli{streams: streams{In: c.In, Out: &out, Err: c.Err}, log: c.log, sigs: c.sigs, verbose: c.verbose}
	ctx := context.Background()
	if c.sigs != nil {
		ctx = c.sigs.ctx
	}
	if err := newSecretsCommand().run(ctx, inner, g); err != nil {
		return "", err
	}
	return out.String(), nil
}

package builtins

import (
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshurl"
)

var builderModule = Builtin{
	Sig: "builder",
	Doc: "The configured builder's setup commands (empty commands where the builder needs none) and what the flow needs to know of it.",
	Members: []Builtin{
		{Sig: "create()", Doc: "The command creating the configured buildx builder (empty when none is needed).",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Create(), nil })},
		{Sig: "remove()", Doc: "The command removing the buildx builder (empty when none is needed).",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Remove(), nil })},
		{Sig: "inspect()", Doc: "The command checking the buildx builder exists and fits (empty when none is needed).",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Inspect(), nil })},
		{Sig: "info()", Doc: "The command showing the build setup, for details.",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Info(), nil })},
		{Sig: "resolve_secrets()", Fn: builderResolveSecrets,
			Doc: "Resolves the builder's secrets now (None), as Kamal does before it inspects or creates the builder: a missing secret fails before anything exists."},
		{Sig: "remote_ssh()", Fn: builderRemoteSSH,
			Doc: "The remote builder's ssh:// URL (Kamal 2 builder.remote, Kamal 1 builder.remote.host), or None when there is none or it is not reached over SSH. ssh.run and ssh.forward take it as a host."},
		{Sig: "context_hosts()", Fn: builderContextHosts,
			Doc: "The lines Kamal 1's context-hosts probe (builder.inspect()) must print for the builder to be kept (a list)."},
	},
}

func builderResolveSecrets(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	if _, err := builderSecretEnv(EnvOf(thread)); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// builderSecretEnv resolves every builder secret (registering each value
// with the logger) as NAME=VALUE; with Kamal 2 a missing one is Kamal's
// secrets error. Kamal 1 never reads the values (its `--secret id=NAME`
// leaves docker to read $NAME at build time, commands/builder/base.rb),
// so a variable set neither here nor in .env is left for docker to
// report; one set in .env is passed on, as Kamal 1's dotenv put it in
// the environment docker inherits.
func builderSecretEnv(e *Env) ([]string, error) {
	var env []string
	for _, s := range e.Config.Builder.Secrets {
		if e.Config.Generation == config.Kamal1 {
			if v, ok := e.Config.Getenv(s); ok {
				e.Log.AddSecret(v)
				env = append(env, s+"="+v)
			}
			continue
		}
		v, err := e.Config.Resolve(config.Value{Secret: s}) // registers v with the logger
		if err != nil {
			return nil, err
		}
		env = append(env, s+"="+v)
	}
	return env, nil
}

func builderRemoteSSH(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	c := EnvOf(thread).Config
	remote := c.Builder.Remote
	if c.Generation == config.Kamal1 {
		remote = ""
		if h := c.Builder.RemoteHost; h != nil {
			remote = h.Host
		}
	}
	if !sshurl.Is(remote) {
		return starlark.None, nil
	}
	return starlark.String(remote), nil
}

func builderContextHosts(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	return strings_(EnvOf(thread).Builder.ContextHosts()), nil
}

package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// The docker and builder modules only build commands (cmd values); running
// them is local.run's or ssh.run's job. That keeps every docker step
// printable, replaceable and testable without a daemon.

type cmdFunc func(thread *starlark.Thread, e *Env) (*shell.Command, error)

// noArgs wraps a command constructor that takes no arguments.
func noArgs(name string, f cmdFunc) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		c, err := f(thread, EnvOf(thread))
		if err != nil {
			return nil, err
		}
		return Cmd{c}, nil
	})
}

// imageArg wraps a command constructor that takes one image reference.
func imageArg(name string, f func(e *Env, image string) *shell.Command) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var image string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "image", &image); err != nil {
			return nil, err
		}
		return Cmd{f(EnvOf(thread), image)}, nil
	})
}

// login renders `docker login` with the registry credentials, resolving
// secrets now; both credentials are sensitive words.
func login(thread *starlark.Thread, e *Env) (*shell.Command, error) {
	user, err := e.Config.Resolve(e.Config.Registry.Username)
	if err != nil {
		return nil, err
	}
	password, err := e.Config.Resolve(e.Config.Registry.Password)
	if err != nil {
		return nil, err
	}
	e.Log.AddSecret(password)
	return commands.Login(e.Config, user, password), nil
}

// RegistryLogin is docker.login() for Go callers (kamal registry login):
// the login command with the credentials resolved and the password
// registered for redaction.
func (e *Env) RegistryLogin() (*shell.Command, error) { return login(nil, e) }

// docker.build(output="registry", no_cache=False, dev=False, image=None,
// dockerfile=None, labels=None) renders the configured builder's
// build-and-push command, with the builder's environment attached. image
// and dockerfile stand in for the config's image and builder.dockerfile;
// labels adds --label KEY=VALUE after the service label.
func dockerBuild(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	e := EnvOf(thread)
	o := commands.PushOptions{Version: e.Version, Output: "registry", Dir: e.Dir}
	var image, dockerfile string
	var labels *starlark.Dict
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "output?", &o.Output, "no_cache?", &o.NoCache, "dev?", &o.Dev,
		"image??", &image, "dockerfile??", &dockerfile, "labels??", &labels); err != nil {
		return nil, err
	}
	vars, err := envVars(b.Name()+": labels", labels)
	if err != nil {
		return nil, err
	}
	for _, v := range vars {
		o.Labels = append(o.Labels, v.Key+"="+v.Value)
	}
	bld := e.Builder
	if image != "" || dockerfile != "" {
		if e.NewBuilder == nil {
			return nil, fmt.Errorf("%s: image and dockerfile need a loaded config", b.Name())
		}
		cfg := *e.Config
		if image != "" {
			cfg.Image = image
		}
		if dockerfile != "" {
			cfg.Builder.Dockerfile = dockerfile
		}
		if bld, err = e.NewBuilder(&cfg); err != nil {
			return nil, err
		}
	}
	o.GitArchive = e.GitArchive()
	// Builder secrets reach buildx (--secret id=NAME reads $NAME) through
	// the build process's environment only: never the command line, the
	// log or kamal's own environment.
	secretEnv, err := builderSecretEnv(e)
	if err != nil {
		return nil, err
	}
	o.SecretValue = func(name string) (string, error) { return e.Config.Resolve(config.Value{Secret: name}) }
	c, err := bld.Push(o)
	if err != nil {
		return nil, err
	}
	c.ProcessEnv = append(c.ProcessEnv, secretEnv...)
	return Cmd{c}, nil
}

// builderSecretEnv resolves every builder secret (registering each value
// with the logger) as NAME=VALUE; a missing one is Kamal's secrets error.
func builderSecretEnv(e *Env) ([]string, error) {
	var env []string
	for _, s := range e.Config.Builder.Secrets {
		v, err := e.Config.Resolve(config.Value{Secret: s})
		if err != nil {
			return nil, err
		}
		e.Log.AddSecret(v)
		env = append(env, s+"="+v)
	}
	return env, nil
}

// builder.resolve_secrets() resolves the builder's secrets now, as Kamal
// does before it inspects or creates the builder, so a missing secret
// fails before anything is created. It returns None.
func builderResolveSecrets(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	if _, err := builderSecretEnv(EnvOf(thread)); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// GitArchive reports whether a Kamal 1.5 build feeds `git archive HEAD` to
// docker as its context: when git works here and builder.context is unset.
// (Kamal 1.9 and 2 build from a clone instead.)
func (e *Env) GitArchive() bool {
	if e.Config.Generation != config.Kamal1 || e.Config.Release == config.Kamal19 || e.Config.Builder.HasContext {
		return false
	}
	_, err := e.Git("rev-parse", "--is-inside-work-tree")
	return err == nil
}

// audit(message) renders the command that appends an audit line on a host.
func auditBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var message string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &message); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	line := commands.AuditLine(e.Config, e.Performer(), timestamp(), message)
	return Cmd{commands.Audit(e.Config, line)}, nil
}

// Docker is the "docker" module.
var Docker = &starlarkstruct.Module{Name: "docker", Members: starlark.StringDict{
	"check": noArgs("docker.check", func(_ *starlark.Thread, e *Env) (*shell.Command, error) {
		return e.Builder.EnsureInstalled(), nil
	}),
	"login":        noArgs("docker.login", login),
	"build":        starlark.NewBuiltin("docker.build", dockerBuild),
	"mirror_probe": noArgs("docker.mirror_probe", func(*starlark.Thread, *Env) (*shell.Command, error) { return commands.MirrorProbe(), nil }),
	"registry_start": noArgs("docker.registry_start", func(_ *starlark.Thread, e *Env) (*shell.Command, error) {
		return commands.LocalRegistryStart(e.Config), nil
	}),
	"pull": imageArg("docker.pull", func(_ *Env, image string) *shell.Command { return commands.Pull(image) }),
	"push": imageArg("docker.push", func(_ *Env, image string) *shell.Command { return shell.New("docker", "push", image) }),
	"tag": starlark.NewBuiltin("docker.tag", func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var source, target string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "source", &source, "target", &target); err != nil {
			return nil, err
		}
		return Cmd{shell.New("docker", "tag", source, target)}, nil
	}),
	"image_rm":       imageArg("docker.image_rm", func(_ *Env, image string) *shell.Command { return commands.ImageRemove(image) }),
	"validate_image": imageArg("docker.validate_image", func(e *Env, image string) *shell.Command { return commands.ValidateImage(e.Config, image) }),
}}

// BuilderModule is the "builder" module: the configured builder's setup
// commands (empty commands where the builder needs none).
var BuilderModule = &starlarkstruct.Module{Name: "builder", Members: starlark.StringDict{
	"create":          noArgs("builder.create", func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Create(), nil }),
	"remove":          noArgs("builder.remove", func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Remove(), nil }),
	"inspect":         noArgs("builder.inspect", func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Inspect(), nil }),
	"info":            noArgs("builder.info", func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.Info(), nil }),
	"resolve_secrets": starlark.NewBuiltin("builder.resolve_secrets", builderResolveSecrets),
}}

// error(class, message) returns an error value a script can fail with in
// Kamal's form; fail() is Starlark's own and prints as a script error.
func errorBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var class, msg string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &class, &msg); err != nil {
		return nil, err
	}
	return nil, NewError(class, msg)
}

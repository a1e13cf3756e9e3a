package builtins

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/layercache"
	"github.com/kamal-go/kamal/runtime/shell"
)

// The docker and builder modules only build commands (cmd values); running
// them is local.run's or ssh.run's job. That keeps every docker step
// printable, replaceable and testable without a daemon.

var dockerModule = Builtin{
	Sig: "docker",
	Doc: "The flow's docker commands, as Kamal renders them for the configured builder.",
	Members: []Builtin{
		{Sig: "check()", Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.Builder.EnsureInstalled(), nil }),
			Doc: "The command checking docker (and buildx where the builder needs it) is installed."},
		{Sig: "login()", Fn: noArgs(login),
			Doc: "docker login for the configured registry; the credentials are resolved from secrets. It runs docker login -u USER --password-stdin with the password on its standard input (never in any process's arguments), and logs as Kamal's docker login -u [REDACTED] -p [REDACTED]."},
		{Sig: "logout()", Doc: "docker logout for the configured registry.",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return commands.Logout(e.Config), nil })},
		{Sig: "included_files()", Fn: dockerIncludedFiles,
			Doc: "The files (relative, sorted) a build with the app directory as context sends to Docker, honouring .dockerignore; dev warns about the uncommitted and untracked ones."},
		{Sig: "build(output=\"registry\", no_cache=False, dev=False, image=None, dockerfile=None, labels=None, layer_cache=False)", Fn: dockerBuild, Waits: true,
			Doc: "The configured builder's build-and-push command (for Kamal 1.5 configs, git archive | docker build && docker push && docker push). image (a name as config.image, without registry or tag) and dockerfile stand in for the config's; labels (strings to strings) adds --label KEY=VALUE after the service label. layer_cache (what --serve's push asks): with a Kamal 2 BuildKit builder (docker-container, remote, hybrid), the build writes the image as an OCI layout into the layer cache ssh.serve reads (layers uncompressed, the image named in its index.json) instead of output \"docker\" (no load into the local image store; any other output is kept, the layout added), so the serve needs no docker image save; no effect with the docker driver, other builders, a buildx older than 0.13 (one --output per build; asked with docker buildx version), or x-kamal-go/serve/cache_max_mb: 0. Raises \"Missing DOCKERFILE\" when the Dockerfile does not exist."},
		{Sig: "pull(image)", Doc: "docker pull IMAGE.", Fn: imageArg(func(_ *Env, image string) *shell.Command { return commands.Pull(image) })},
		{Sig: "push(image)", Doc: "docker push IMAGE.", Fn: imageArg(func(_ *Env, image string) *shell.Command { return shell.New("docker", "push", image) })},
		{Sig: "image_rm(image)", Doc: "docker image rm --force IMAGE.", Fn: imageArg(func(_ *Env, image string) *shell.Command { return commands.ImageRemove(image) })},
		{Sig: "image_id(image)", Doc: "docker image inspect --format '{{.Id}}' IMAGE: prints the image's ID where it runs, fails when there is no such image.",
			Fn: imageArg(func(_ *Env, image string) *shell.Command {
				return shell.New("docker", "image", "inspect", "--format", "{{.Id}}", image)
			})},
		{Sig: "tag(source, target)", Doc: "docker tag SOURCE TARGET.", Fn: dockerTag},
		{Sig: "validate_image(image)", Fn: imageArg(func(e *Env, image string) *shell.Command { return commands.ValidateImage(e.Config, image) }),
			Doc: "The check that IMAGE carries the service label, failing with Kamal's message."},
		{Sig: "mirror_probe()", Doc: "docker info asking for the first registry mirror.",
			Fn: noArgs(func(*starlark.Thread, *Env) (*shell.Command, error) { return commands.MirrorProbe(), nil })},
		{Sig: "registry_start()", Doc: "Starts Kamal 2's local registry container.",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) {
				return commands.LocalRegistryStart(e.Config), nil
			})},
		{Sig: "registry_remove()", Doc: "Stops and removes Kamal 2's local registry container.",
			Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) {
				return commands.LocalRegistryRemove(e.Config), nil
			})},
	},
}

func dockerTag(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var source, target string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "source", &source, "target", &target); err != nil {
		return nil, err
	}
	return Cmd{shell.New("docker", "tag", source, target)}, nil
}

type cmdFunc func(thread *starlark.Thread, e *Env) (*shell.Command, error)

// noArgs wraps a command constructor that takes no arguments.
func noArgs(f cmdFunc) Func {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		c, err := f(thread, EnvOf(thread))
		if err != nil {
			return nil, err
		}
		return Cmd{c}, nil
	}
}

// imageArg wraps a command constructor that takes one image reference.
func imageArg(f func(e *Env, image string) *shell.Command) Func {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var image string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "image", &image); err != nil {
			return nil, err
		}
		return Cmd{f(EnvOf(thread), image)}, nil
	}
}

// login is docker.login(): the run's registry login command.
func login(_ *starlark.Thread, e *Env) (*shell.Command, error) { return e.RegistryLogin() }

// buildLayerCache is the directory a build writes the image's layers to
// for ssh.serve (the layer cache, made if need be), or "" when there is
// none: cache_max_mb 0, no cache directory, or a path buildx's --output
// cannot carry (a comma or a quote).
func buildLayerCache(ctx context.Context, e *Env) string {
	if e.Config == nil || e.Config.Serve.CacheMaxMB == 0 || e.Config.Builder.Driver == "docker" {
		return ""
	}
	dir, err := layercache.Dir()
	if err == nil && !e.Flags.DryRun {
		if !buildxMultipleOutputs(ctx, e) {
			e.Log.Debugf("This buildx takes one --output per build (several need v0.13): the serve will read the image with docker image save")
			return ""
		}
		_, dir, err = openLayerCache(e)
	}
	if err != nil || strings.ContainsAny(dir, ",\"'") {
		return ""
	}
	return dir
}

// buildxMultipleOutputs reports whether the local buildx takes several
// --output flags in one build (v0.13 and later).
func buildxMultipleOutputs(ctx context.Context, e *Env) bool {
	var out bytes.Buffer
	status, err := e.Runner.Local.Run(ctx, "", executor.Request{Script: "docker buildx version", Stdout: &out, Stderr: io.Discard})
	return err == nil && status == 0 && buildxAtLeast(out.String(), 0, 13)
}

// buildxAtLeast reports whether `docker buildx version`'s line
// ("github.com/docker/buildx v0.38.2 1a2b3c", or a distribution's
// "github.com/docker/buildx 0.10.2+ds1 0.10.2+ds1-1") names major.minor or
// later.
func buildxAtLeast(line string, major, minor int) bool {
	for _, f := range strings.Fields(line) {
		var ma, mi int
		if n, _ := fmt.Sscanf(strings.TrimPrefix(f, "v"), "%d.%d", &ma, &mi); n == 2 {
			return ma > major || (ma == major && mi >= minor)
		}
	}
	return false
}

// dockerBuild attaches the builder's environment to the command.
func dockerBuild(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	e := EnvOf(thread)
	o := commands.PushOptions{Version: e.Version, Output: "registry", Dir: e.Dir}
	var image, dockerfile string
	var labels *starlark.Dict
	var layerCache bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "output?", &o.Output, "no_cache?", &o.NoCache, "dev?", &o.Dev,
		"image??", &image, "dockerfile??", &dockerfile, "labels??", &labels, "layer_cache?", &layerCache); err != nil {
		return nil, err
	}
	if layerCache {
		o.LayerCache = buildLayerCache(Context(thread), e)
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
	o.GitArchive = e.GitArchive(Context(thread))
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

// GitArchive reports whether a Kamal 1.5 build feeds `git archive HEAD` to
// docker as its context: when git works here and builder.context is unset.
// (Kamal 1.9 and 2 build from a clone instead.)
func (e *Env) GitArchive(ctx context.Context) bool {
	if e.Config.Generation != config.Kamal1 || e.Config.Release == config.Kamal19 || e.Config.Builder.HasContext {
		return false
	}
	_, err := e.Git(ctx, "rev-parse", "--is-inside-work-tree")
	return err == nil
}

// dockerIncludedFiles applies docker's own .dockerignore rules (see
// contextFiles).
func dockerIncludedFiles(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	dir := EnvOf(thread).Dir
	if dir == "" {
		dir = "."
	}
	files, err := contextFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return strings_(files), nil
}

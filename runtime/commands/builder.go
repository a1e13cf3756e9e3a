package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Builder renders one builder type's commands, Kamal 2's or Kamal 1's.
// Methods that have nothing to run return an empty command
// (Empty() reports true); callers skip those instead of reproducing Kamal's
// bare "/usr/bin/env " quirk.
type Builder interface {
	// Type is what `kamal build details` prints after "Builder: ".
	// Kamal 2: local, remote, hybrid, pack, cloud. Kamal 1: native,
	// native/cached, native/remote, multiarch, multiarch/remote.
	Type() string
	// Name is the buildx builder name, "" when no buildx builder is managed
	// (Kamal 2 docker driver and pack, Kamal 1 native).
	Name() string
	// EnsureInstalled checks the local docker (and buildx) installation.
	EnsureInstalled() *shell.Command
	// Create sets the builder up.
	Create() *shell.Command
	// Remove tears the builder down.
	Remove() *shell.Command
	// Inspect is Kamal 2's builder presence check, or Kamal 1's
	// context-hosts probe whose output must equal ContextHosts.
	Inspect() *shell.Command
	// ContextHosts is the output Kamal 1's Inspect probe must print, one
	// line per element (nil: no output). Always nil for Kamal 2.
	ContextHosts() []string
	// Info is the command whose output `kamal build details` prints.
	Info() *shell.Command
	// Push is the build (and push) command. It fails with a BuilderError
	// "Missing <dockerfile>" when the Dockerfile does not exist relative to
	// o.Dir. The returned command carries Env() as its environment.
	Push(o PushOptions) (*shell.Command, error)
	// LoginsLocally reports whether `kamal build push` logs in to the
	// registry locally before building (Kamal 2 local, cloud and pack with
	// a non-local registry; never for Kamal 1).
	LoginsLocally() bool
	// Env is the environment the push runs with (Kamal 2 remote and hybrid:
	// BUILDKIT_NO_CLIENT_TOKEN=1). Push already attaches it.
	Env() []shell.EnvVar
}

// PushOptions are the per-run inputs of Builder.Push.
type PushOptions struct {
	// Version is the resolved version (the image tag).
	Version string
	// Output is Kamal 2's --output export type. Empty means "registry", or
	// "docker" when Dev is set. Ignored by Kamal 1.
	Output string
	// NoCache adds --no-cache (pack: --clear-cache). Ignored by Kamal 1.
	NoCache bool
	// Dev is Kamal 2's `kamal build dev`: both tags get "-dirty".
	Dev bool
	// Dir is where a relative Dockerfile path is resolved for the existence
	// check (the app root, i.e. Kamal's cwd). Empty: the process cwd.
	Dir string
	// GitArchive selects Kamal 1.5's git archive build: the context is "-"
	// and the build reads `git archive --format=tar HEAD |`. Set it when git
	// is used; it has no effect when builder.context is set or for Kamal 2.
	GitArchive bool
	// LocalArch is informational: the local/remote split is fixed by the
	// architecture given to NewBuilder.
	LocalArch string
	// SecretValue resolves a builder secret's value. Only the Kamal 2 pack
	// builder puts secret values on its command line (as sensitive --env
	// words); it fails when a secret is configured and SecretValue is nil.
	SecretValue func(name string) (string, error)
	// Labels are extra "KEY=VALUE" labels, after the service label.
	Labels []string
	// LayerCache, when set, adds a second output to a Kamal 2 BuildKit
	// build (not the docker driver, not pack or cloud): the image as an OCI
	// layout in this directory, layers uncompressed, so --serve's layer
	// cache (runtime/layercache, whose directory it is) holds every layer
	// without a docker image save. Other builders ignore it.
	LayerCache string
}

// NewBuilder picks the builder type for cfg's generation.
// localArch is the local docker architecture (see NormalizeArch); Kamal 2
// uses it only when builder.remote is set, Kamal 1 never.
func NewBuilder(cfg *config.Config, localArch string) (Builder, error) {
	if cfg == nil {
		return nil, fmt.Errorf("commands: nil config")
	}
	if isV1(cfg) {
		return newV1Builder(cfg), nil
	}
	return newV2Builder(cfg, localArch), nil
}

// NormalizeArch maps docker's Architecture to Kamal's arch names:
// aarch64 → arm64, x86_64 → amd64, anything else verbatim (after trimming
// surrounding whitespace).
func NormalizeArch(raw string) string {
	switch a := strings.TrimSpace(raw); a {
	case "aarch64":
		return "arm64"
	case "x86_64":
		return "amd64"
	default:
		return a
	}
}

// ensureDocker is `docker --version`, optionally followed by
// `&& docker buildx version`.
func ensureDocker(buildx bool) *shell.Command {
	if !buildx {
		return shell.New("docker", "--version")
	}
	return shell.Combine(shell.New("docker", "--version"), shell.New("docker", "buildx", "version"))
}

// dockerfile is builder.dockerfile, default "Dockerfile".
func dockerfile(cfg *config.Config) string {
	if cfg.Builder.Dockerfile == "" {
		return "Dockerfile"
	}
	return cfg.Builder.Dockerfile
}

// checkDockerfile reproduces Kamal's existence check of the Dockerfile,
// resolved against dir (Kamal's cwd), not the clone.
func checkDockerfile(cfg *config.Config, dir string) error {
	df := dockerfile(cfg)
	p := df
	if !filepath.IsAbs(p) && dir != "" {
		p = filepath.Join(dir, p)
	}
	if _, err := os.Stat(p); err != nil {
		return builderError("Missing " + df)
	}
	return nil
}

// blank is Ruby's blank? for strings: empty or whitespace only.
func blank(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }

// argumentize renders a hash as repeated "--flag KEY=<escaped value>" words,
// as Kamal's Utils.argumentize does. A YAML false renders KEY=false in Kamal 2 and a bare KEY in
// Kamal 1; an empty value renders a bare KEY. When sensitive, the
// KEY=value word is a secret word.
func argumentize(cmd *shell.Command, cfg *config.Config, flag string, kvs []config.KV, sensitive bool) {
	for _, kv := range kvs {
		switch {
		case kv.IsFalse && !isV1(cfg):
			cmd.Arg(flag, kv.Key+"=false")
		case kv.IsFalse || kv.IsEmpty || blank(kv.Value):
			cmd.Arg(flag, kv.Key)
		case sensitive:
			cmd.Arg(flag).Secret(kv.Key + "=" + escape(cfg, kv.Value))
		default:
			cmd.Arg(flag, kv.Key+"="+escape(cfg, kv.Value))
		}
	}
}

// buildOptions appends the options both generations share, in Kamal's
// order: cache, label, build args, secrets, dockerfile, target, ssh
// (the order of Kamal's build_options). Tags and the Kamal 2 extras are
// the caller's.
func buildOptions(cmd *shell.Command, cfg *config.Config, cacheFrom, cacheTo string, labels []string) {
	b := cfg.Builder
	if cacheFrom != "" && cacheTo != "" {
		cmd.Arg("--cache-to", cacheTo, "--cache-from", cacheFrom)
	}
	cmd.Arg("--label", "service="+escape(cfg, cfg.Service))
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		cmd.Arg("--label", k+"="+escape(cfg, v))
	}
	argumentize(cmd, cfg, "--build-arg", b.Args, true)
	for _, s := range b.Secrets {
		cmd.Arg("--secret", "id="+escape(cfg, s))
	}
	cmd.Arg("--file", dockerfile(cfg))
	if !blank(b.Target) {
		cmd.Arg("--target", b.Target)
	}
	if !blank(b.SSH) {
		cmd.Arg("--ssh", b.SSH)
	}
}

// tagOptions is "-t <abs> -t <latest>", each with "-dirty" for dev builds.
func tagOptions(cfg *config.Config, version string, dirty bool) []string {
	abs, latest := cfg.AbsoluteImage(version), cfg.LatestImage()
	if dirty {
		abs, latest = abs+"-dirty", latest+"-dirty"
	}
	return []string{"-t", abs, "-t", latest}
}

// cacheImageRef is "<server>/<cache image>" (server omitted for Docker Hub),
// the cache image defaulting to "<image>-build-cache".
func cacheImageRef(cfg *config.Config) string {
	img := cfg.Image + "-build-cache"
	if c := cfg.Builder.Cache; c != nil && c.Image != "" {
		img = c.Image
	}
	if cfg.Registry.Server == "" {
		return img
	}
	return cfg.Registry.Server + "/" + img
}

// platforms renders arches as "linux/a,linux/b".
func platforms(arches []string) string {
	out := make([]string, len(arches))
	for i, a := range arches {
		out[i] = "linux/" + a
	}
	return strings.Join(out, ",")
}

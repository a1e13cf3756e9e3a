package commands

import (
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Kamal 1 builder types (builder.multiarch, local and remote pick one).
const (
	TypeNative          = "native"
	TypeNativeCached    = "native/cached"
	TypeNativeRemote    = "native/remote"
	TypeMultiarch       = "multiarch"
	TypeMultiarchRemote = "multiarch/remote"
)

// v1Builder renders every Kamal 1 builder type; kind selects the variant.
// With PushOptions.GitArchive (Kamal 1.5) the build context is "-" and the
// build reads `git archive --format=tar HEAD |`; without it (Kamal 1.9's
// clone build) the context is ".", run in the clone.
type v1Builder struct {
	cfg  *config.Config
	kind string
}

func newV1Builder(cfg *config.Config) *v1Builder {
	b := cfg.Builder
	v := &v1Builder{cfg: cfg}
	multiarch := b.Multiarch == nil || *b.Multiarch
	switch {
	case multiarch && b.RemoteHost != nil && b.LocalHost != nil:
		v.kind = TypeMultiarchRemote
	case multiarch && b.RemoteHost != nil:
		v.kind = TypeNativeRemote
	case multiarch:
		v.kind = TypeMultiarch
	case b.Cache != nil:
		v.kind = TypeNativeCached
	default:
		v.kind = TypeNative
	}
	return v
}

func (v *v1Builder) Type() string { return v.kind }

func (v *v1Builder) Name() string {
	svc := v.cfg.Service
	switch v.kind {
	case TypeMultiarch:
		return "kamal-" + svc + "-multiarch"
	case TypeMultiarchRemote:
		return "kamal-" + svc + "-multiarch-remote"
	case TypeNativeRemote:
		return "kamal-" + svc + "-native-remote"
	case TypeNativeCached:
		return "kamal-" + svc + "-native-cached"
	default:
		return ""
	}
}

func (v *v1Builder) localArch() string {
	if h := v.cfg.Builder.LocalHost; h != nil {
		return h.Arch
	}
	return ""
}

func (v *v1Builder) localHost() string {
	if h := v.cfg.Builder.LocalHost; h != nil {
		return h.Host
	}
	return ""
}

func (v *v1Builder) remoteArch() string {
	if h := v.cfg.Builder.RemoteHost; h != nil {
		return h.Arch
	}
	return ""
}

func (v *v1Builder) remoteHost() string {
	if h := v.cfg.Builder.RemoteHost; h != nil {
		return h.Host
	}
	return ""
}

// contextName is the docker context of the node with the given arch.
func (v *v1Builder) contextName(arch string) string { return v.Name() + "-" + arch }

func (v *v1Builder) EnsureInstalled() *shell.Command { return ensureDocker(v.kind != TypeNative) }

func (v *v1Builder) createContext(arch, host string) *shell.Command {
	return shell.New("docker", "context", "create", v.contextName(arch),
		"--description", "'"+v.Name()+" "+arch+" native host'",
		"--docker", "'host="+host+"'")
}

func (v *v1Builder) Create() *shell.Command {
	name := v.Name()
	switch v.kind {
	case TypeMultiarch:
		return shell.New("docker", "buildx", "create", "--use", "--name", name)
	case TypeMultiarchRemote:
		la, ra := v.localArch(), v.remoteArch()
		return shell.Combine(
			v.createContext(la, v.localHost()),
			v.createContext(ra, v.remoteHost()),
			shell.New("docker", "buildx", "create", "--name", name, v.contextName(la), "--platform", "linux/"+la),
			shell.New("docker", "buildx", "create", "--append", "--name", name, v.contextName(ra), "--platform", "linux/"+ra))
	case TypeNativeRemote:
		ra := v.remoteArch()
		return shell.Chain(
			v.createContext(ra, v.remoteHost()),
			shell.New("docker", "buildx", "create", "--name", name, v.contextName(ra), "--platform", "linux/"+ra))
	case TypeNativeCached:
		return shell.New("docker", "buildx", "create", "--name", name, "--use", "--driver=docker-container")
	default:
		return &shell.Command{}
	}
}

func (v *v1Builder) Remove() *shell.Command {
	name := v.Name()
	switch v.kind {
	case TypeMultiarchRemote:
		// The builder before its contexts, unlike Kamal (see v2Builder.Remove).
		return shell.Chain(
			shell.New("docker", "buildx", "rm", name),
			shell.Combine(
				shell.New("docker", "context", "rm", v.contextName(v.localArch())),
				shell.New("docker", "context", "rm", v.contextName(v.remoteArch()))))
	case TypeNativeRemote:
		return shell.Chain(
			shell.New("docker", "buildx", "rm", name),
			shell.New("docker", "context", "rm", v.contextName(v.remoteArch())))
	case TypeMultiarch, TypeNativeCached:
		return shell.New("docker", "buildx", "rm", name)
	default:
		return &shell.Command{}
	}
}

func (v *v1Builder) inspectContext(arch string) *shell.Command {
	return shell.New("docker", "context", "inspect", v.contextName(arch), "--format", "'{{.Endpoints.docker.Host}}'")
}

// Inspect is the context-hosts probe; its output lines must equal
// ContextHosts, otherwise Kamal re-creates the builder.
func (v *v1Builder) Inspect() *shell.Command {
	switch v.kind {
	case TypeMultiarch, TypeNativeCached:
		return shell.New("docker", "buildx", "inspect", v.Name(), ">", "/dev/null")
	case TypeNativeRemote:
		return v.inspectContext(v.remoteArch())
	case TypeMultiarchRemote:
		return shell.Chain(v.inspectContext(v.localArch()), v.inspectContext(v.remoteArch()))
	default:
		return shell.New("true")
	}
}

func (v *v1Builder) ContextHosts() []string {
	switch v.kind {
	case TypeNativeRemote:
		return []string{v.remoteHost()}
	case TypeMultiarchRemote:
		var hosts []string
		for _, h := range []string{v.localHost(), v.remoteHost()} {
			if h != "" {
				hosts = append(hosts, h)
			}
		}
		return hosts
	default:
		return nil
	}
}

func (v *v1Builder) Info() *shell.Command {
	switch v.kind {
	case TypeMultiarch, TypeMultiarchRemote:
		return shell.Combine(shell.New("docker", "context", "ls"), shell.New("docker", "buildx", "ls"))
	case TypeNativeRemote:
		return shell.Chain(shell.New("docker", "context", "ls"), shell.New("docker", "buildx", "ls"))
	default:
		return &shell.Command{}
	}
}

func (v *v1Builder) LoginsLocally() bool { return false }

func (v *v1Builder) Env() []shell.EnvVar { return nil }

// cache returns Kamal 1's --cache-from and --cache-to values ("" for none):
// gha options only go to --cache-to, and registry options precede the ref.
func (v *v1Builder) cache() (from, to string) {
	c := v.cfg.Builder.Cache
	if c == nil {
		return "", ""
	}
	switch c.Type {
	case "gha":
		return "type=gha", joinNonEmpty("type=gha", c.Options)
	case "registry":
		ref := "ref=" + cacheImageRef(v.cfg)
		return "type=registry," + ref, joinNonEmpty("type=registry", c.Options, ref)
	}
	return "", ""
}

// Push renders the Kamal 1 push. The native builder builds with plain
// docker and pushes both tags; every other type uses buildx --push.
func (v *v1Builder) Push(o PushOptions) (*shell.Command, error) {
	if err := checkDockerfile(v.cfg, o.Dir); err != nil {
		return nil, err
	}
	cfg := v.cfg
	// Output "docker" (kamal-go's --serve) builds into the local image
	// store only: --load instead of --push, and no docker push.
	push := "--push"
	if o.Output == "docker" {
		push = "--load"
	}
	var build *shell.Command
	switch v.kind {
	case TypeNative:
		build = shell.New("docker", "build")
	case TypeNativeCached:
		build = shell.New("docker", "buildx", "build", push)
	case TypeNativeRemote:
		build = shell.New("docker", "buildx", "build", push,
			"--platform", "linux/"+v.remoteArch(), "--builder", v.Name())
	case TypeMultiarchRemote:
		build = shell.New("docker", "buildx", "build", push,
			"--platform", "linux/"+v.localArch()+",linux/"+v.remoteArch(), "--builder", v.Name())
	default: // multiarch
		platform := "linux/amd64,linux/arm64"
		if la := v.localArch(); la != "" {
			platform = "linux/" + la
		}
		build = shell.New("docker", "buildx", "build", push, "--platform", platform, "--builder", v.Name())
	}
	build.Arg(tagOptions(cfg, o.Version, false)...)
	from, to := v.cache()
	buildOptions(build, cfg, from, to, o.Labels)

	gitArchive := o.GitArchive && !cfg.Builder.HasContext
	switch {
	case cfg.Builder.HasContext:
		build.Arg(cfg.Builder.Context)
	case gitArchive:
		build.Arg("-")
		build = shell.Pipe(shell.New("git", "archive", "--format=tar", "HEAD"), build)
	default:
		build.Arg(".")
	}

	if v.kind != TypeNative || o.Output == "docker" {
		return build, nil
	}
	return shell.Combine(build,
		shell.New("docker", "push", cfg.AbsoluteImage(o.Version)),
		shell.New("docker", "push", cfg.LatestImage())), nil
}

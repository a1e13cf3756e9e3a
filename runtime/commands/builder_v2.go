package commands

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Kamal 2.12 builder types (builder.driver, local and remote pick one).
const (
	TypeLocal  = "local"
	TypeRemote = "remote"
	TypeHybrid = "hybrid"
	TypePack   = "pack"
	TypeCloud  = "cloud"
)

// v2Builder renders every Kamal 2 builder type; kind selects the variant.
type v2Builder struct {
	cfg          *config.Config
	kind         string
	localArches  []string
	remoteArches []string
}

func newV2Builder(cfg *config.Config, localArch string) *v2Builder {
	b := cfg.Builder
	arches := b.Arches
	localDisabled := b.Local != nil && !*b.Local

	var local, remote []string
	switch {
	case localDisabled:
	case b.Remote != "":
		for _, a := range arches {
			if a == localArch && !contains(local, a) {
				local = append(local, a)
			}
		}
	default:
		local = arches
	}
	if b.Remote != "" {
		for _, a := range arches {
			if !contains(local, a) {
				remote = append(remote, a)
			}
		}
	}

	v := &v2Builder{cfg: cfg, localArches: local, remoteArches: remote}
	switch {
	case len(remote) > 0:
		if !localDisabled && (len(arches) == 0 || len(local) > 0) {
			v.kind = TypeHybrid
		} else {
			v.kind = TypeRemote
		}
	case b.Pack != nil:
		v.kind = TypePack
	case strings.HasPrefix(v.driver(), "cloud"):
		v.kind = TypeCloud
	default:
		v.kind = TypeLocal
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (v *v2Builder) Type() string { return v.kind }

func (v *v2Builder) driver() string {
	if v.cfg.Builder.Driver == "" {
		return "docker-container"
	}
	return v.cfg.Builder.Driver
}

func (v *v2Builder) dockerDriver() bool { return v.driver() == "docker" }

var remoteSanitizer = regexp.MustCompile(`[^a-z0-9_-]`)

// remoteSuffix is the remote URL with every character outside [a-z0-9_-]
// replaced by "-", plus "-local-registry" with a local registry.
func (v *v2Builder) remoteSuffix() string {
	s := remoteSanitizer.ReplaceAllString(v.cfg.Builder.Remote, "-")
	if v.cfg.Registry.Local {
		s += "-local-registry"
	}
	return s
}

// builderName is the name Kamal computes, even where no command uses it.
func (v *v2Builder) builderName() string {
	switch v.kind {
	case TypeRemote:
		return "kamal-remote-" + v.remoteSuffix()
	case TypeHybrid:
		return "kamal-hybrid-" + v.driver() + "-" + v.remoteSuffix()
	case TypeCloud:
		return strings.NewReplacer(" ", "-", "/", "-").Replace(v.driver())
	case TypePack:
		return v.cfg.Builder.Pack.Builder
	default:
		if v.cfg.Registry.Local {
			return "kamal-local-registry-" + v.driver()
		}
		return "kamal-local-" + v.driver()
	}
}

func (v *v2Builder) Name() string {
	if v.kind == TypePack || (v.kind == TypeLocal && v.dockerDriver()) {
		return ""
	}
	return v.builderName()
}

func (v *v2Builder) contextName() string { return v.builderName() + "-context" }

// driverOpts is "--driver-opt network=host" with a local registry.
func (v *v2Builder) driverOpts() []string {
	if v.cfg.Registry.Local {
		return []string{"--driver-opt", "network=host"}
	}
	return nil
}

func (v *v2Builder) EnsureInstalled() *shell.Command { return ensureDocker(true) }

func (v *v2Builder) createContext() *shell.Command {
	return shell.New("docker", "context", "create", v.contextName(),
		"--description", "'"+v.builderName()+" host'",
		"--docker", "'host="+v.cfg.Builder.Remote+"'")
}

func (v *v2Builder) Create() *shell.Command {
	name := v.builderName()
	switch v.kind {
	case TypeRemote:
		buildx := shell.New("docker", "buildx", "create", "--name", name).Arg(v.driverOpts()...).Arg(v.contextName())
		return shell.Chain(v.createContext(), buildx)
	case TypeHybrid:
		local := shell.New("docker", "buildx", "create")
		if len(v.localArches) > 0 {
			local.Arg("--platform", platforms(v.localArches))
		}
		local.Arg("--name", name, "--driver="+v.driver()).Arg(v.driverOpts()...)
		remote := shell.New("docker", "buildx", "create")
		if len(v.remoteArches) > 0 {
			remote.Arg("--platform", platforms(v.remoteArches))
		}
		remote.Arg("--append", "--name", name).Arg(v.driverOpts()...).Arg(v.contextName())
		return shell.Combine(local, v.createContext(), remote)
	case TypeCloud:
		return shell.New("docker", "buildx", "create", "--driver", v.driver())
	case TypePack:
		return &shell.Command{}
	default:
		if v.dockerDriver() {
			return &shell.Command{}
		}
		return shell.New("docker", "buildx", "create", "--name", name, "--driver="+v.driver()).Arg(v.driverOpts()...)
	}
}

func (v *v2Builder) Remove() *shell.Command {
	switch v.kind {
	case TypeRemote, TypeHybrid:
		// The builder first, unlike Kamal: buildx cannot reach the
		// builder's nodes once their context is gone, and would leave
		// BuildKit's containers and volumes on the remote host.
		return shell.Chain(
			shell.New("docker", "buildx", "rm", v.builderName()),
			shell.New("docker", "context", "rm", v.contextName()))
	case TypePack:
		return &shell.Command{}
	default:
		if v.kind == TypeLocal && v.dockerDriver() {
			return &shell.Command{}
		}
		return shell.New("docker", "buildx", "rm", v.builderName())
	}
}

func (v *v2Builder) Inspect() *shell.Command {
	name := v.builderName()
	switch v.kind {
	case TypeRemote, TypeHybrid:
		return shell.Any(
			shell.Combine(
				shell.Pipe(
					shell.New("docker", "buildx", "inspect", name),
					shell.New("grep", "-q", "Endpoint:.*"+v.contextName())),
				shell.Pipe(
					shell.New("docker", "context", "inspect", v.contextName(), "--format", "'{{.Endpoints.docker.Host}}'"),
					shell.New("grep", "-xq", v.cfg.Builder.Remote))),
			shell.New("(echo no compatible builder && exit 1)"))
	case TypePack:
		return v.Info()
	default:
		if v.kind == TypeLocal && v.dockerDriver() {
			return &shell.Command{}
		}
		return shell.New("docker", "buildx", "inspect", name)
	}
}

func (v *v2Builder) ContextHosts() []string { return nil }

func (v *v2Builder) Info() *shell.Command {
	switch v.kind {
	case TypeRemote, TypeHybrid:
		return shell.Chain(shell.New("docker", "context", "ls"), shell.New("docker", "buildx", "ls"))
	case TypePack:
		return shell.New("pack", "builder", "inspect", v.cfg.Builder.Pack.Builder)
	default:
		return shell.Combine(shell.New("docker", "context", "ls"), shell.New("docker", "buildx", "ls"))
	}
}

func (v *v2Builder) LoginsLocally() bool {
	return v.kind != TypeRemote && v.kind != TypeHybrid && !v.cfg.Registry.Local
}

func (v *v2Builder) Env() []shell.EnvVar {
	if v.kind == TypeRemote || v.kind == TypeHybrid {
		return []shell.EnvVar{{Key: "BUILDKIT_NO_CLIENT_TOKEN", Value: "1"}}
	}
	return nil
}

func (v *v2Builder) context() string {
	if v.cfg.Builder.HasContext {
		return v.cfg.Builder.Context
	}
	return "."
}

func (o PushOptions) output() string {
	switch {
	case o.Output != "":
		return o.Output
	case o.Dev:
		return "docker"
	default:
		return "registry"
	}
}

func (v *v2Builder) Push(o PushOptions) (*shell.Command, error) {
	if v.kind == TypePack {
		if len(o.Labels) > 0 {
			return nil, fmt.Errorf("the pack builder takes no extra labels (labels=%v)", o.Labels)
		}
		return v.packPush(o)
	}
	if err := checkDockerfile(v.cfg, o.Dir); err != nil {
		return nil, err
	}
	b := v.cfg.Builder
	cmd := shell.New("docker", "buildx", "build")
	if o.LayerCache != "" && !v.dockerDriver() && (v.kind == TypeLocal || v.kind == TypeRemote || v.kind == TypeHybrid) {
		// --serve serves from the layer cache and finds the image there by
		// name: --output=type=docker (an export and a load into the local
		// image store, seconds for a big image even on a cache hit) would
		// only tell it the image ID.
		if o.output() != "docker" {
			cmd.Arg("--output=type=" + o.output())
		}
		cmd.Arg("--output=type=oci,dest=" + o.LayerCache + ",tar=false,compression=uncompressed,force-compression=true")
	} else {
		cmd.Arg("--output=type=" + o.output())
	}
	if len(b.Arches) > 0 {
		cmd.Arg("--platform", platforms(b.Arches))
	}
	if !v.dockerDriver() {
		cmd.Arg("--builder", v.builderName())
	}
	cmd.Arg(tagOptions(v.cfg, o.Version, o.Dev)...)
	from, to := v.cache()
	buildOptions(cmd, v.cfg, from, to, o.Labels)
	if b.Provenance != nil {
		cmd.Arg("--provenance", *b.Provenance)
	}
	if b.SBOM != nil {
		cmd.Arg("--sbom", fmt.Sprint(*b.SBOM))
	}
	if o.NoCache {
		cmd.Arg("--no-cache")
	}
	cmd.Arg(v.context(), "2>&1")
	cmd.Env = v.Env()
	return cmd, nil
}

// cache returns Kamal 2's --cache-from and --cache-to values ("" for none).
func (v *v2Builder) cache() (from, to string) {
	c := v.cfg.Builder.Cache
	if c == nil {
		return "", ""
	}
	switch c.Type {
	case "gha":
		from = "type=gha"
		if c.Options != "" {
			for _, opt := range strings.Split(c.Options, ",") {
				for _, p := range []string{"url=", "url_v2=", "token=", "scope=", "timeout="} {
					if strings.HasPrefix(opt, p) {
						from += "," + opt
						break
					}
				}
			}
		}
		to = joinNonEmpty("type=gha", c.Options)
	case "registry":
		ref := "ref=" + cacheImageRef(v.cfg)
		from = "type=registry," + ref
		to = joinNonEmpty("type=registry", ref, c.Options)
	}
	return from, to
}

func joinNonEmpty(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

// packPush is the Cloud Native Buildpacks build, followed by docker pushes
// when exporting to the registry.
func (v *v2Builder) packPush(o PushOptions) (*shell.Command, error) {
	cfg, p := v.cfg, v.cfg.Builder.Pack
	arch := ""
	if len(v.localArches) > 0 {
		arch = v.localArches[0]
	}
	cmd := shell.New("pack", "build", cfg.Repository(),
		"--platform", "linux/"+arch,
		"--creation-time", "now",
		"--builder", p.Builder)
	for _, bp := range append(append([]string(nil), p.Buildpacks...), "paketo-buildpacks/image-labels") {
		cmd.Arg("--buildpack", bp)
	}
	cmd.Arg(tagOptions(cfg, o.Version, o.Dev)...)
	if o.NoCache {
		cmd.Arg("--clear-cache")
	}
	cmd.Arg("--env", "BP_IMAGE_LABELS=service="+cfg.Service)
	argumentize(cmd, cfg, "--env", cfg.Builder.Args, false)
	if len(cfg.Builder.Secrets) > 0 {
		if o.SecretValue == nil {
			return nil, fmt.Errorf("commands: pack builder secrets need PushOptions.SecretValue")
		}
		var kvs []config.KV
		for _, name := range cfg.Builder.Secrets {
			val, err := o.SecretValue(name)
			if err != nil {
				return nil, err
			}
			kvs = append(kvs, config.KV{Key: name, Value: val, IsEmpty: val == ""})
		}
		argumentize(cmd, cfg, "--env", kvs, true)
	}
	cmd.Arg("--path", v.context())
	if o.output() != "registry" {
		return cmd, nil
	}
	return shell.Combine(cmd,
		shell.New("docker", "push", cfg.AbsoluteImage(o.Version)),
		shell.New("docker", "push", cfg.LatestImage())), nil
}

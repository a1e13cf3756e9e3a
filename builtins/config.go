package builtins

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/config"
)

func strings_(l []string) *starlark.List {
	v := make([]starlark.Value, len(l))
	for i, s := range l {
		v[i] = starlark.String(s)
	}
	return starlark.NewList(v)
}

func optString(s string) starlark.Value {
	if s == "" {
		return starlark.None
	}
	return starlark.String(s)
}

var configGlobal = Builtin{
	Sig:   "config",
	Doc:   "The loaded deploy configuration, read-only: service, image, repository, version, absolute_image, latest_image, latest_tag, destination, generation (1 or 2), kamal1, kamal2, release (the Kamal generation whose flow runs: 1.5, 1.9 or 2.12), kamal_version (the release it follows: 1.5.2, 1.9.2 or 2.12.0), release_reason (why: the Gemfile.lock pin, minimum_version or builder keys), hosts (the selected hosts), app_hosts, all_hosts, roles (the selected role names), all_roles (structs with name and hosts), primary_host, hooks_path, run_directory, builder (type, name, arches, driver, remote, context, dockerfile, target, secrets, logins_locally) and registry (server, local, local_port). It holds no secret.",
	Value: configValue,
}

// configValue is the frozen config global of e's run (None without a
// config: help and api need none).
func configValue(e *Env) starlark.Value {
	if e.Config == nil {
		return starlark.None
	}
	c := e.Config
	roles := make([]starlark.Value, len(c.Roles))
	for i, r := range c.Roles {
		roles[i] = starlarkstruct.FromStringDict(starlark.String("role"), starlark.StringDict{
			"name": starlark.String(r.Name), "hosts": strings_(r.Hosts),
		})
	}
	b := c.Builder
	builder := starlark.StringDict{
		"arches":     strings_(b.Arches),
		"driver":     starlark.String(b.Driver),
		"remote":     optString(b.Remote),
		"context":    optString(b.Context),
		"dockerfile": starlark.String(b.Dockerfile),
		"target":     optString(b.Target),
		"secrets":    strings_(b.Secrets),
		"type":       starlark.None,
		"name":       starlark.None,
	}
	if !b.HasContext {
		builder["context"] = starlark.None
	}
	if e.Builder != nil {
		builder["type"] = starlark.String(e.Builder.Type())
		builder["name"] = optString(e.Builder.Name())
		builder["logins_locally"] = starlark.Bool(e.Builder.LoginsLocally())
	}
	d := starlark.StringDict{
		"generation":     starlark.MakeInt(int(c.Generation)),
		"service":        starlark.String(c.Service),
		"image":          starlark.String(c.Image),
		"repository":     starlark.String(c.Repository()),
		"version":        starlark.String(e.Version),
		"absolute_image": starlark.String(c.AbsoluteImage(e.Version)),
		"latest_image":   starlark.String(c.LatestImage()),
		"latest_tag":     starlark.String(c.LatestTag()),
		"destination":    optString(c.Destination),
		"hosts":          strings_(e.Selection.Hosts),
		"app_hosts":      strings_(e.Selection.AppHosts),
		"all_hosts":      strings_(c.AllHosts()),
		"roles":          strings_(e.Selection.Roles),
		"all_roles":      starlark.NewList(roles),
		"primary_host":   starlark.String(e.Selection.Primary),
		"hooks_path":     starlark.String(c.HooksPath),
		"run_directory":  starlark.String(c.RunDir()),
		"builder":        starlarkstruct.FromStringDict(starlark.String("builder"), builder),
		"registry": starlarkstruct.FromStringDict(starlark.String("registry"), starlark.StringDict{
			"server":     optString(c.Registry.Server),
			"local":      starlark.Bool(c.Registry.Local),
			"local_port": starlark.MakeInt(c.Registry.LocalPort),
		}),
		"release":        starlark.String(c.Release.Name()),
		"kamal_version":  starlark.String(c.Release.Version()),
		"release_reason": starlark.String(c.ReleaseReason),
		"kamal1":         starlark.Bool(c.Generation == config.Kamal1),
		"kamal2":         starlark.Bool(c.Generation == config.Kamal2),
	}
	v := starlarkstruct.FromStringDict(starlark.String("config"), d)
	v.Freeze()
	return v
}

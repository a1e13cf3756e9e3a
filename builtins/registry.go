package builtins

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/manifest"
)

var registryModule = Builtin{
	Sig: "registry",
	Doc: "What the configured registry holds (asked from here over its HTTP API, with the configured credentials; nothing runs on a server).",
	Members: []Builtin{
		{Sig: "manifest(image=None)", Fn: registryManifest, Waits: true,
			Doc: "The registry's manifest for IMAGE (default config.absolute_image): a struct with digest (the manifest's) and ids (the digests a server's copy of that image may report as its image ID: the config digest of each image, as the classic image store reports it, and the manifests' own, as the containerd store does), or None when the registry has no such manifest, and always None in a dry run. An unreachable registry or refused credentials raise."},
	},
}

// ManifestLookup asks the registry for a manifest; tests replace it.
var ManifestLookup = manifest.Lookup

func registryManifest(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	e := EnvOf(thread)
	image := ""
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "image??", &image); err != nil {
		return nil, err
	}
	if image == "" {
		image = e.Config.AbsoluteImage(e.Version)
	}
	if e.Flags.DryRun {
		return starlark.None, nil
	}
	ctx := Context(thread)
	if err := executor.Refuse(ctx, "registry lookup of "+image); err != nil {
		return nil, err
	}
	m, err := lookupManifest(ctx, e, image)
	if err != nil || m == nil {
		return starlark.None, err
	}
	ids := make([]starlark.Value, len(m.IDs))
	for i, id := range m.IDs {
		ids[i] = starlark.String(id)
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"digest": starlark.String(m.Digest),
		"ids":    starlark.NewList(ids),
	}), nil
}

func lookupManifest(ctx context.Context, e *Env, image string) (*manifest.Manifest, error) {
	user, err := e.Config.Resolve(e.Config.Registry.Username)
	if err != nil {
		return nil, err
	}
	password, err := e.Config.Resolve(e.Config.Registry.Password)
	if err != nil {
		return nil, err
	}
	m, err := ManifestLookup(ctx, image, manifest.Credentials{Username: user, Password: password})
	if err != nil {
		return nil, fmt.Errorf("registry.manifest: %w", err)
	}
	return m, nil
}

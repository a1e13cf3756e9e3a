// Package manifest asks a registry what it holds for an image reference:
// whether it has a manifest for it and the digests an image pulled from
// it can have as its ID on a server. It is what --skip-existing decides
// with. It runs no command and prints nothing; Lookup is safe for
// concurrent use.
package manifest

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// Manifest is what a registry holds for one reference.
type Manifest struct {
	Digest string // the manifest's (or index's) own digest, "sha256:…"
	// IDs are the digests a server's copy of the image may carry as its
	// image ID: the config digest of each image (one, or one per platform
	// of an index) as the classic image store reports it, and the
	// manifest's and each platform manifest's digest, as the containerd
	// image store reports it.
	IDs []string
}

// Credentials are the registry's user name and password ("" for none).
type Credentials struct{ Username, Password string }

// Lookup returns what the registry holds for ref ("host:port/repo:tag";
// a loopback or private registry is spoken to over plain HTTP, as
// dockerd does), or nil and no error when it has no manifest for it.
func Lookup(ctx context.Context, ref string, cred Credentials) (*Manifest, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("image %q: %w", ref, err)
	}
	auth := authn.Anonymous
	if cred.Username != "" || cred.Password != "" {
		auth = &authn.Basic{Username: cred.Username, Password: cred.Password}
	}
	desc, err := remote.Get(r, remote.WithAuth(auth), remote.WithContext(ctx))
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("registry manifest of %s: %w", ref, err)
	}
	m := &Manifest{Digest: desc.Digest.String(), IDs: []string{desc.Digest.String()}}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, fmt.Errorf("registry manifest of %s: %w", ref, err)
		}
		return m, addConfig(m, img, ref)
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("registry index of %s: %w", ref, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("registry index of %s: %w", ref, err)
	}
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue // attestations and nested indexes are no image a server runs
		}
		m.IDs = append(m.IDs, d.Digest.String())
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("registry manifest %s of %s: %w", d.Digest, ref, err)
		}
		if err := addConfig(m, img, ref); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func addConfig(m *Manifest, img v1.Image, ref string) error {
	cfg, err := img.ConfigName()
	if err != nil {
		return fmt.Errorf("image config of %s: %w", ref, err)
	}
	m.IDs = append(m.IDs, cfg.String())
	return nil
}

// notFound reports a registry's answer that it has no such manifest (or
// no such repository).
func notFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

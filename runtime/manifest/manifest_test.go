package manifest

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestLookupFindsTheImageAndItsConfigDigest(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/app:v1"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatal(err)
	}
	cfg, _ := img.ConfigName()
	dig, _ := img.Digest()

	m, err := Lookup(context.Background(), ref, Credentials{})
	if err != nil || m == nil {
		t.Fatalf("Lookup = %v, %v", m, err)
	}
	if m.Digest != dig.String() || !slices.Contains(m.IDs, cfg.String()) || !slices.Contains(m.IDs, dig.String()) || slices.Contains(m.IDs, "sha256:0") {
		t.Errorf("manifest %+v, want digest %s with config %s", m, dig, cfg)
	}

	for _, missing := range []string{host + "/app:v2", host + "/other:v1"} {
		if m, err := Lookup(context.Background(), missing, Credentials{}); m != nil || err != nil {
			t.Errorf("%s: Lookup = %+v, %v, want nothing", missing, m, err)
		}
	}
}

func TestLookupOfAnUnreachableRegistryIsAnError(t *testing.T) {
	srv := httptest.NewServer(registry.New())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if m, err := Lookup(context.Background(), host+"/app:v1", Credentials{}); err == nil {
		t.Errorf("Lookup = %+v, want an error", m)
	}
}

package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kamal-go/kamal/runtime/layercache"
)

// CacheOptions is how IndexCached reads an image through a layer cache.
type CacheOptions struct {
	Cache *layercache.Cache
	// ID returns the image ID of a local image (docker image inspect
	// --format {{.Id}}): the key of the image's record.
	ID func(ctx context.Context, image string) (string, error)
	// Debugf logs what the cache did (hit, save, corrupt entry).
	Debugf func(string, ...any)
}

// record is what the cache keeps of one image ID: the manifest and config
// served (the layers are the manifest's, stored as blobs).
type record struct {
	Manifest []byte `json:"manifest"`
	Config   []byte `json:"config"`
}

// cached is an Image's side of the cache: the files it opened and the one
// save a missing or corrupt layer starts. Safe for concurrent use.
type cached struct {
	CacheOptions
	save Saver
	ctx  context.Context // the serve's: a refill outlives the request that started it

	mu    sync.Mutex
	files []*os.File

	// noSave: the image is not in the local image store (a BuildKit
	// build wrote it into the cache only), so a layer gone or corrupt
	// cannot be read again with docker image save.
	noSave bool

	refillMu  sync.Mutex
	refilled  map[v1.Hash]*os.File
	refillErr error
}

// IndexCached is Index through the layer cache: an image whose ID has a
// record with every layer in the cache is served from there with no save
// at all; otherwise one save is read through, each layer written to the
// cache as it passes (no spool), and the record written. Each layer is
// checked against its digest before it is first served (layercache.Blob);
// one missing or corrupt then is read again with one more save. An image
// whose ID cannot be read is indexed by Index, unspooled into the cache.
func IndexCached(ctx context.Context, save Saver, image string, o CacheOptions) (*Image, error) {
	c := &cached{CacheOptions: o, save: save, ctx: ctx}
	id, err := o.ID(ctx, image)
	if err != nil {
		return c.withoutStore(image, err)
	}
	img, err := c.fromRecord(image, id)
	if err == nil {
		o.Debugf("Indexed %s from the layer cache (image %s): %d layers, no docker image save", image, id, len(img.layers))
		return img, nil
	}
	built, berr := c.fromBuild(image, id)
	if berr == nil {
		o.Debugf("Indexed %s from the layers its build wrote to the layer cache (image %s): %d layers, no docker image save", image, id, len(built.layers))
		return built, nil
	}
	o.Debugf("Reading %s with docker image save into the layer cache (%v; %v)", image, err, berr)
	s, err := readSave(ctx, save, image, nil, o.Cache)
	if err != nil {
		return nil, err
	}
	if img, err = s.image(image); err != nil {
		s.abort()
		return nil, err
	}
	if _, err := c.commit(s, img); err != nil {
		c.close()
		return nil, err
	}
	img.cached = c
	if !savedAs(s, img, id) {
		o.Debugf("Not recording %s in the layer cache: the save is not image %s (retagged meanwhile?)", image, id)
	} else if err := c.putRecord(id, img); err != nil {
		o.Debugf("Recording %s in the layer cache: %v", image, err)
	}
	c.evict()
	return img, nil
}

// savedAs reports whether the save s is image ID id: its config's digest
// (dockerd's own store) or a manifest or index it holds (containerd's).
func savedAs(s *saved, img *Image, id string) bool {
	if id == img.ConfigID.String() {
		return true
	}
	hex, ok := strings.CutPrefix(id, "sha256:")
	b, held := s.files["blobs/sha256/"+hex]
	return ok && held && sha(b).String() == id
}

func (c *cached) putRecord(id string, img *Image) error {
	b, err := json.Marshal(record{Manifest: img.Manifest, Config: img.Config})
	if err != nil {
		return err
	}
	return c.Cache.PutRecord(id, b)
}

func (c *cached) evict() {
	if n, err := c.Cache.Evict(); err != nil {
		c.Debugf("Evicting from the layer cache: %v", err)
	} else if n > 0 {
		c.Debugf("Evicted %d bytes from the layer cache (least recently used first)", n)
	}
}

// fromRecord is the image of record id when every layer of it is in the
// cache; the layers are touched (used) but opened only when requested.
func (c *cached) fromRecord(image, id string) (*Image, error) {
	b, err := c.Cache.Record(id)
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		c.Cache.RemoveRecord(id)
		return nil, fmt.Errorf("record %s: %w", id, err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(r.Manifest, &m); err != nil || m.Config.Digest != sha(r.Config) {
		c.Cache.RemoveRecord(id)
		return nil, fmt.Errorf("record %s does not match its config", id)
	}
	img := &Image{Name: image, Manifest: r.Manifest, Digest: sha(r.Manifest), Config: r.Config,
		ConfigID: m.Config.Digest, layers: map[v1.Hash]*layerFile{}, cached: c}
	for _, l := range m.Layers {
		if !c.Cache.Has(l.Digest.String()) {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, layercache.ErrMissing)
		}
		img.layers[l.Digest] = &layerFile{size: l.Size}
	}
	for h := range img.layers {
		c.Cache.Touch(h.String())
	}
	return img, nil
}

// fromBuild is the image whose config is blob id in the cache and whose
// layers, uncompressed, are there too: what a BuildKit build with an OCI
// output into the cache left (docker.build(layer_cache = True)). dockerd's
// own store names an image by its config's digest, so id is that blob.
// The record is written, so the next serve finds it as any other.
func (c *cached) fromBuild(image, id string) (*Image, error) {
	f, err := c.Cache.Blob(id)
	if err != nil {
		return nil, err
	}
	cfg, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", id, err)
	}
	// containerd's image store names an image by its manifest or index,
	// also a JSON blob: only an image config has rootfs layers.
	if cf.RootFS.Type != "layers" {
		return nil, fmt.Errorf("blob %s is no image config", id)
	}
	img := &Image{Name: image, Config: cfg, ConfigID: sha(cfg), layers: map[v1.Hash]*layerFile{}, cached: c}
	var layers []v1.Descriptor
	for _, d := range cf.RootFS.DiffIDs {
		size, err := c.Cache.Size(d.String())
		if err != nil {
			return nil, err
		}
		img.layers[d] = &layerFile{size: size}
		layers = append(layers, v1.Descriptor{MediaType: types.OCIUncompressedLayer, Size: size, Digest: d})
		c.Cache.Touch(d.String())
	}
	if err := img.setManifest(layers); err != nil {
		return nil, err
	}
	if err := c.putRecord(id, img); err != nil {
		c.Debugf("Recording %s in the layer cache: %v", image, err)
	}
	c.evict() // the build wrote into the cache
	return img, nil
}

// withoutStore indexes image, which docker image inspect did not find
// (inspectErr), from the layer cache by name: what a BuildKit build with
// only the OCI output into the cache wrote (fromLayout). When no build
// wrote an index.json into the cache, or it does not name image, it reads
// the image with docker image save (Index), as without a cache.
func (c *cached) withoutStore(image string, inspectErr error) (*Image, error) {
	img, err := c.fromLayout(image)
	if err == nil {
		c.Debugf("Indexed %s from the layer cache its build wrote (image %s, not in the local image store): %d layers, no docker image save", image, img.ConfigID, len(img.layers))
		return img, nil
	}
	if !errors.Is(err, layercache.ErrNotNamed) && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	c.Debugf("Reading %s without the layer cache: %v; %v", image, inspectErr, err)
	img, serr := Index(c.ctx, c.save, image, "")
	if serr != nil && errors.Is(err, layercache.ErrNotNamed) {
		return nil, fmt.Errorf("%s is neither in the local image store nor in the layer cache a BuildKit build writes: build it first (kamal build push --serve, or deliver --serve)", image)
	}
	return img, serr
}

// fromLayout is image as the newest entry of the cache's index.json names
// it (a BuildKit build's OCI output): its manifest gives the config, whose
// digest is the image ID, and the image is read as fromRecord or
// fromBuild read it, marked noSave. A layer missing is one clear error.
func (c *cached) fromLayout(image string) (*Image, error) {
	digest, err := c.Cache.Named(image)
	if err != nil {
		return nil, err
	}
	id, err := c.layoutConfig(image, digest)
	if err != nil {
		return nil, err
	}
	c.noSave = true
	img, err := c.fromRecord(image, id)
	if err == nil {
		return img, nil
	}
	if img, err = c.fromBuild(image, id); errors.Is(err, layercache.ErrMissing) || errors.Is(err, layercache.ErrCorrupt) {
		return nil, fmt.Errorf("%v, and %s is not in the local image store to read it again: %s", err, image, rebuildHint)
	}
	return img, err
}

// unservableError is a layer that cannot be served at all (and no retry
// of the request will change that): the registry says so to the host.
type unservableError struct{ error }

func (u unservableError) Unwrap() error { return u.error }

// rebuildHint is what to do when a layer only a build wrote is gone.
const rebuildHint = "run kamal build push --serve (or deliver --serve) again: the build rewrites it"

// layoutConfig is the config digest of the manifest blob digest names for
// image: the manifest itself, or an index's one image manifest (BuildKit
// adds attestation manifests, platform unknown/unknown, which are skipped).
func (c *cached) layoutConfig(image, digest string) (string, error) {
	for depth := 0; depth < 2; depth++ {
		f, err := c.Cache.Blob(digest)
		if err != nil {
			return "", fmt.Errorf("%s as the layer cache's index.json names it: %w", image, err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return "", err
		}
		var doc struct {
			Config    *v1.Descriptor  `json:"config"`
			Manifests []v1.Descriptor `json:"manifests"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			return "", fmt.Errorf("%s: blob %s in the layer cache: %w", image, digest, err)
		}
		if doc.Config != nil {
			return doc.Config.Digest.String(), nil
		}
		var images []v1.Descriptor
		for _, m := range doc.Manifests {
			if m.Platform == nil || m.Platform.OS != "unknown" {
				images = append(images, m)
			}
		}
		if len(images) != 1 {
			return "", fmt.Errorf("%s: the layer cache holds %d platforms of it; --serve serves one (set builder.arch to one)", image, len(images))
		}
		digest = images[0].Digest.String()
	}
	return "", fmt.Errorf("%s: blob %s in the layer cache is no image manifest", image, digest)
}

// commit puts the layers of s, the save img was indexed from, in the
// cache, each checked against its digest, and returns them open.
func (c *cached) commit(s *saved, img *Image) (map[v1.Hash]*os.File, error) {
	defer s.abort()
	files := map[v1.Hash]*os.File{}
	for h, l := range img.layers {
		w := s.blobs[l.name]
		delete(s.blobs, l.name)
		if w == nil {
			// A small blob (held in memory while reading) that is a layer.
			b, ok := s.files[l.name]
			var err error
			if w, err = c.Cache.Create(); err != nil {
				return nil, err
			}
			if !ok {
				w.Abort()
				return nil, fmt.Errorf("the save of %s: layer %s read twice", img.Name, l.name)
			}
			w.Write(b)
		}
		f, err := w.Commit(h.String())
		if err != nil {
			return nil, fmt.Errorf("the save of %s: %w", img.Name, err)
		}
		c.track(f)
		l.file = f
		files[h] = f
	}
	return files, nil
}

func (c *cached) track(f *os.File) {
	c.mu.Lock()
	c.files = append(c.files, f)
	c.mu.Unlock()
}

func (c *cached) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
	return nil
}

// file is layer h of img, open: from the cache, checked on its first
// request; a layer gone or corrupt since the index is read again (one
// save for all of them).
func (c *cached) file(img *Image, h v1.Hash, l *layerFile) (*os.File, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		return l.file, nil
	}
	f, err := c.Cache.Blob(h.String())
	switch {
	case err == nil:
		c.track(f)
	case c.noSave && (errors.Is(err, layercache.ErrCorrupt) || errors.Is(err, layercache.ErrMissing)):
		return nil, unservableError{fmt.Errorf("layer cache: %v, and %s is not in the local image store to read it again: %s", err, img.Name, rebuildHint)}
	case errors.Is(err, layercache.ErrCorrupt), errors.Is(err, layercache.ErrMissing):
		c.Debugf("Layer cache: %v; reading %s again with docker image save", err, img.Name)
		files, err := c.refill(img)
		if err != nil {
			return nil, err
		}
		if f = files[h]; f == nil {
			return nil, fmt.Errorf("the save of %s lacks layer %s", img.Name, h)
		}
	default:
		return nil, err
	}
	l.file = f
	return f, nil
}

// refill reads img's image again, once for the Image, into the cache,
// under the serve's context: the hosts waiting for it share one save,
// whichever of them asked first and whether or not it is still there.
func (c *cached) refill(img *Image) (map[v1.Hash]*os.File, error) {
	c.refillMu.Lock()
	defer c.refillMu.Unlock()
	if c.refilled != nil || c.refillErr != nil {
		return c.refilled, c.refillErr
	}
	s, err := readSave(c.ctx, c.save, img.Name, nil, c.Cache)
	if err == nil {
		var again *Image
		if again, err = s.image(img.Name); err != nil {
			s.abort()
		} else if again.Digest != img.Digest {
			s.abort()
			err = fmt.Errorf("%s changed while it was served (manifest %s, now %s)", img.Name, img.Digest, again.Digest)
		} else {
			c.refilled, err = c.commit(s, again)
		}
	}
	c.refillErr = err
	return c.refilled, err
}

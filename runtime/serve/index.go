// Package serve serves one image of the local Docker image store as a
// read-only registry (its manifest and blobs), for servers whose dockerd
// pulls it through an SSH forward: each dockerd fetches only the layers it
// lacks.
//
// The image is read with `docker image save IMAGE`, the Engine API's
// streamed save of one image, run through the docker CLI so the daemon is
// the one `docker build` used (its context, DOCKER_HOST and TLS settings).
// One save is read through once, indexed as it passes (manifest.json, the
// config, each entry's offset and size) and spooled to a temporary file
// that is unlinked as soon as it is created, so it is gone when the serve
// ends, however it ends. Blob requests read their entry from that file at
// its offset: no layer is ever held in memory (a copy buffer per request),
// and dockerd saves the image once per serve, not once per request
// (Docker 20.10's save writes the whole image to a directory of its own
// before the first byte comes out).
//
// Layers are served as they are stored, uncompressed (digest = the layer's
// DiffID): no compression CPU, and a digest every later image sharing the
// layer has too, so dockerd's own check ("Already exists") skips it.
package serve

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/kamal-go/kamal/runtime/layercache"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Saver streams the tar of `docker image save` for one image. Closing the
// stream before its end stops the save.
type Saver func(ctx context.Context, image string) (io.ReadCloser, error)

// Image is the index of one saved image: what the registry serves.
type Image struct {
	Name     string // the local reference it was saved by
	Manifest []byte // OCI image manifest, served as is
	Digest   v1.Hash
	Config   []byte // the image config, the only blob held in memory
	ConfigID v1.Hash
	layers   map[v1.Hash]*layerFile
	spool    *os.File // the save, unlinked, without a cache; read with ReadAt (safe concurrently)
	cached   *cached  // the layer cache the layers come from, or nil
}

// layerFile is where a blob lies: at offset in the spooled save, or, with
// a cache, in file (opened and checked on its first request).
type layerFile struct {
	name         string
	offset, size int64
	mu           sync.Mutex
	file         *os.File
}

// Close drops the spooled save, or closes the cache files in use.
func (img *Image) Close() error {
	if img.cached != nil {
		return img.cached.close()
	}
	return img.spool.Close()
}

// Layers returns the manifest's layer descriptors, base first.
func (img *Image) Layers() []v1.Descriptor {
	var m v1.Manifest
	json.Unmarshal(img.Manifest, &m)
	return m.Layers
}

// Index reads one save of image through, spooling it to a temporary file
// in dir ("": the system's), and builds the manifest servers pull: the
// config as saved, each layer uncompressed with its tar size. The caller
// closes the Image.
func Index(ctx context.Context, save Saver, image, dir string) (*Image, error) {
	spool, err := os.CreateTemp(dir, "kamal-serve-*.tar")
	if err != nil {
		return nil, fmt.Errorf("serving %s: %w", image, err)
	}
	os.Remove(spool.Name()) // lives as long as the descriptor
	s, err := readSave(ctx, save, image, spool, nil)
	if err != nil {
		spool.Close()
		return nil, err
	}
	img, err := s.image(image)
	if err != nil {
		spool.Close()
		return nil, err
	}
	img.spool = spool
	return img, nil
}

// offsetReader counts the bytes read through it: under archive/tar, whose
// reads stop at block boundaries, the count after Next is where the
// entry's data starts.
type offsetReader struct {
	r io.Reader
	n int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.n += int64(n)
	return n, err
}

// saved is what one read of a save found: every regular entry's size,
// offset and first bytes, the small JSON files, and (with a cache) every
// other entry written to a cache Writer, not yet committed.
type saved struct {
	sizes   map[string]int64
	offsets map[string]int64
	magic   map[string][]byte
	files   map[string][]byte // small JSON files: manifest.json and configs
	blobs   map[string]*layercache.Writer
}

// abort drops the uncommitted cache writes.
func (s *saved) abort() {
	for name, w := range s.blobs {
		w.Abort()
		delete(s.blobs, name)
	}
}

// readSave reads one save of image through: all of it to spool when
// spool is not nil, else each entry but the small JSON files into cache.
func readSave(ctx context.Context, save Saver, image string, spool io.Writer, cache *layercache.Cache) (*saved, error) {
	rc, err := save(ctx, image)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var (
		in io.Reader = bufio.NewReaderSize(rc, 256<<10)
		w  *bufio.Writer
	)
	if spool != nil {
		w = bufio.NewWriterSize(spool, 256<<10)
		in = io.TeeReader(in, w)
	}
	pos := &offsetReader{r: in}
	s := &saved{sizes: map[string]int64{}, offsets: map[string]int64{}, magic: map[string][]byte{},
		files: map[string][]byte{}, blobs: map[string]*layercache.Writer{}}
	if err := s.read(tar.NewReader(pos), pos, image, cache); err != nil {
		s.abort()
		return nil, err
	}
	// The tar's end blocks and anything after them reach the spool too.
	if _, err := io.Copy(io.Discard, pos); err != nil {
		s.abort()
		return nil, fmt.Errorf("reading the save of %s: %w", image, err)
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("spooling the save of %s: %w", image, err)
		}
	}
	return s, nil
}

func (s *saved) read(tr *tar.Reader, pos *offsetReader, image string, cache *layercache.Cache) error {
	peekBuf := make([]byte, 4)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the save of %s: %w", image, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		s.sizes[h.Name] = h.Size
		s.offsets[h.Name] = pos.n
		// manifest.json and the config are small JSON files (in an OCI
		// layout save the config is a blob); layers are only sized.
		if h.Size < 1<<20 && (strings.HasSuffix(h.Name, ".json") || strings.HasPrefix(h.Name, "blobs/")) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return fmt.Errorf("reading the save of %s: %w", image, err)
			}
			s.files[h.Name] = b
			s.magic[h.Name] = b[:min(4, len(b))]
			continue
		}
		n, _ := io.ReadFull(tr, peekBuf)
		s.magic[h.Name] = append([]byte(nil), peekBuf[:n]...)
		if cache == nil || path.Base(h.Name) == "VERSION" || h.Name == "repositories" {
			continue
		}
		bw, err := cache.Create()
		if err != nil {
			return err
		}
		s.blobs[h.Name] = bw
		bw.Write(peekBuf[:n])
		if _, err := io.Copy(bw, tr); err != nil {
			return fmt.Errorf("reading the save of %s into the layer cache: %w", image, err)
		}
	}
}

// image builds the manifest servers pull from what the save held: the
// config as saved, each layer as stored, with its size.
func (s *saved) image(image string) (*Image, error) {
	mf, ok := s.files["manifest.json"]
	if !ok {
		return nil, fmt.Errorf("the save of %s has no manifest.json", image)
	}
	var saved []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(mf, &saved); err != nil {
		return nil, fmt.Errorf("the save of %s: manifest.json: %w", image, err)
	}
	if len(saved) != 1 {
		return nil, fmt.Errorf("the save of %s holds %d images, want 1", image, len(saved))
	}
	d := saved[0]
	cfg, ok := s.files[d.Config]
	if !ok {
		return nil, fmt.Errorf("the save of %s lacks its config %s", image, d.Config)
	}
	cf, err := v1.ParseConfigFile(bytes.NewReader(cfg))
	if err != nil {
		return nil, fmt.Errorf("the save of %s: config: %w", image, err)
	}
	if len(cf.RootFS.DiffIDs) != len(d.Layers) {
		return nil, fmt.Errorf("the save of %s: %d layers but %d diff_ids", image, len(d.Layers), len(cf.RootFS.DiffIDs))
	}
	img := &Image{Name: image, Config: cfg, ConfigID: sha(cfg), layers: map[v1.Hash]*layerFile{}}
	var layers []v1.Descriptor
	for i, name := range d.Layers {
		size, ok := s.sizes[name]
		if !ok {
			return nil, fmt.Errorf("the save of %s lacks layer %s", image, name)
		}
		digest, mt := cf.RootFS.DiffIDs[i], types.OCIUncompressedLayer
		// A store that keeps layers compressed (containerd's) saves them
		// as blobs/sha256/<digest of the compressed blob>.
		if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && hex != digest.Hex {
			digest = v1.Hash{Algorithm: "sha256", Hex: hex}
			switch b := s.magic[name]; {
			case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
				mt = types.OCILayer
			case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
				mt = types.OCILayerZStd
			}
		}
		img.layers[digest] = &layerFile{name: name, offset: s.offsets[name], size: size}
		layers = append(layers, v1.Descriptor{MediaType: mt, Size: size, Digest: digest})
	}
	return img, img.setManifest(layers)
}

// setManifest makes img's manifest (and its digest): img's config and
// layers, base first.
func (img *Image) setManifest(layers []v1.Descriptor) error {
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(img.Config)), Digest: img.ConfigID},
		Layers:        layers,
	}
	var err error
	if img.Manifest, err = json.Marshal(m); err != nil {
		return err
	}
	img.Digest = sha(img.Manifest)
	return nil
}

func sha(b []byte) v1.Hash {
	s := sha256.Sum256(b)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(s[:])}
}

// errNotFound is a blob this image does not have.
var errNotFound = errors.New("blob unknown")

// size returns the size of blob h.
func (img *Image) size(h v1.Hash) (int64, error) {
	if h == img.ConfigID {
		return int64(len(img.Config)), nil
	}
	l, ok := img.layers[h]
	if !ok {
		return 0, errNotFound
	}
	return l.size, nil
}

// open streams blob h: the config from memory, a layer from the spooled
// save. The reader is an io.ReaderAt too, so ranged requests seek.
func (img *Image) open(_ context.Context, h v1.Hash) (io.ReadCloser, error) {
	if h == img.ConfigID {
		return io.NopCloser(bytes.NewReader(img.Config)), nil
	}
	l, ok := img.layers[h]
	if !ok {
		return nil, errNotFound
	}
	if img.cached != nil {
		f, err := img.cached.file(img, h, l)
		if err != nil {
			return nil, err
		}
		return sectionCloser{io.NewSectionReader(f, 0, l.size)}, nil
	}
	return sectionCloser{io.NewSectionReader(img.spool, l.offset, l.size)}, nil
}

type sectionCloser struct{ *io.SectionReader }

func (sectionCloser) Close() error { return nil }

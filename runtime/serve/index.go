// Package serve serves one image of the local Docker image store as a
// read-only registry (its manifest and blobs), for servers whose dockerd
// pulls it through an SSH forward: each dockerd fetches only the layers it
// lacks.
//
// The image is read with `docker image save IMAGE`, the Engine API's
// streamed save of one image, run through the docker CLI so the daemon is
// the one `docker build` used (its context, DOCKER_HOST and TLS settings).
// One save is read through once to index the image (manifest.json, the
// config, each layer's size); every blob request then starts a save of its
// own and copies that one tar entry to the response. No layer is ever held
// in memory or on disk: memory per request is a copy buffer.
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
	"os/exec"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Saver streams the tar of `docker image save` for one image. Closing the
// stream before its end stops the save.
type Saver func(ctx context.Context, image string) (io.ReadCloser, error)

// DockerSave is the Saver that runs the docker CLI.
func DockerSave(ctx context.Context, image string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	c := exec.CommandContext(ctx, "docker", "image", "save", image)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	if err != nil {
		cancel()
		return nil, err
	}
	if err := c.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("docker image save %s: %w", image, err)
	}
	return &saveStream{r: out, cmd: c, cancel: cancel, stderr: &stderr, image: image}, nil
}

type saveStream struct {
	r      io.Reader
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stderr *bytes.Buffer
	image  string
	eof    bool
}

func (s *saveStream) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err == io.EOF && !s.eof {
		s.eof = true
		if werr := s.cmd.Wait(); werr != nil {
			s.cancel()
			return n, s.failure(werr)
		}
		s.cancel()
	}
	return n, err
}

func (s *saveStream) failure(err error) error {
	msg := strings.TrimSpace(s.stderr.String())
	if msg == "" {
		msg = err.Error()
	}
	return fmt.Errorf("docker image save %s: %s", s.image, msg)
}

// Close stops the save if it is still running and reaps the process.
func (s *saveStream) Close() error {
	if s.eof {
		return nil
	}
	s.eof = true
	s.cancel()
	s.cmd.Wait()
	return nil
}

// Image is the index of one saved image: what the registry serves.
type Image struct {
	Name     string // the local reference it was saved by
	Manifest []byte // OCI image manifest, served as is
	Digest   v1.Hash
	Config   []byte // the image config, the only blob held in memory
	ConfigID v1.Hash
	layers   map[v1.Hash]layerFile
	save     Saver
}

// layerFile is where a blob lies in the save stream.
type layerFile struct {
	name string
	size int64
}

// Layers returns the manifest's layer descriptors, base first.
func (img *Image) Layers() []v1.Descriptor {
	var m v1.Manifest
	json.Unmarshal(img.Manifest, &m)
	return m.Layers
}

// Index reads one save of image through and builds the manifest servers
// pull: the config as saved, each layer uncompressed with its tar size.
func Index(ctx context.Context, save Saver, image string) (*Image, error) {
	rc, err := save(ctx, image)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var (
		sizes   = map[string]int64{}
		magic   = map[string][]byte{}
		files   = map[string][]byte{} // small JSON files: manifest.json and configs
		tr      = tar.NewReader(bufio.NewReaderSize(rc, 64<<10))
		peekBuf = make([]byte, 4)
	)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the save of %s: %w", image, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		sizes[h.Name] = h.Size
		// manifest.json and the config are small JSON files (in an OCI
		// layout save the config is a blob); layers are only sized.
		if h.Size < 1<<20 && (strings.HasSuffix(h.Name, ".json") || strings.HasPrefix(h.Name, "blobs/")) {
			b, err := io.ReadAll(tr)
			if err != nil {
				return nil, fmt.Errorf("reading the save of %s: %w", image, err)
			}
			files[h.Name] = b
			magic[h.Name] = b[:min(4, len(b))]
			continue
		}
		n, _ := io.ReadFull(tr, peekBuf)
		magic[h.Name] = append([]byte(nil), peekBuf[:n]...)
	}
	mf, ok := files["manifest.json"]
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
	cfg, ok := files[d.Config]
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
	img := &Image{Name: image, Config: cfg, ConfigID: sha(cfg), layers: map[v1.Hash]layerFile{}, save: save}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: types.OCIConfigJSON, Size: int64(len(cfg)), Digest: img.ConfigID},
	}
	for i, name := range d.Layers {
		size, ok := sizes[name]
		if !ok {
			return nil, fmt.Errorf("the save of %s lacks layer %s", image, name)
		}
		digest, mt := cf.RootFS.DiffIDs[i], types.OCIUncompressedLayer
		// A store that keeps layers compressed (containerd's) saves them
		// as blobs/sha256/<digest of the compressed blob>.
		if hex, ok := strings.CutPrefix(name, "blobs/sha256/"); ok && hex != digest.Hex {
			digest = v1.Hash{Algorithm: "sha256", Hex: hex}
			switch b := magic[name]; {
			case bytes.HasPrefix(b, []byte{0x1f, 0x8b}):
				mt = types.OCILayer
			case bytes.HasPrefix(b, []byte{0x28, 0xb5, 0x2f, 0xfd}):
				mt = types.OCILayerZStd
			}
		}
		img.layers[digest] = layerFile{name: name, size: size}
		m.Layers = append(m.Layers, v1.Descriptor{MediaType: mt, Size: size, Digest: digest})
	}
	if img.Manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	img.Digest = sha(img.Manifest)
	return img, nil
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

// open streams blob h: the config from memory, a layer from a new save,
// skipped forward to the layer's tar entry. Closing the reader stops the
// save.
func (img *Image) open(ctx context.Context, h v1.Hash) (io.ReadCloser, error) {
	if h == img.ConfigID {
		return io.NopCloser(bytes.NewReader(img.Config)), nil
	}
	l, ok := img.layers[h]
	if !ok {
		return nil, errNotFound
	}
	rc, err := img.save(ctx, img.Name)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(rc)
	for {
		hd, err := tr.Next()
		if err != nil {
			rc.Close()
			if err == io.EOF {
				err = fmt.Errorf("the save of %s no longer holds %s", img.Name, l.name)
			}
			return nil, err
		}
		if hd.Name == l.name {
			if hd.Size != l.size {
				rc.Close()
				return nil, fmt.Errorf("the save of %s changed: %s is %d bytes, was %d", img.Name, l.name, hd.Size, l.size)
			}
			return struct {
				io.Reader
				io.Closer
			}{tr, rc}, nil
		}
	}
}

// Command hostdocker is the stand-in `docker` of tests/bench/serve-scale's
// hosts, which have no dockerd of their own: it answers the commands a
// Kamal 2 pull runs on a server (both kamal-go's --serve and the local
// registry path) from a store of its own under $HOME/store, and fetches
// images with a real registry client (go-containerregistry), so that the
// bytes and requests a pull makes through the SSH forward are real:
//
//	docker pull REF                        fetch REF's manifest, config and the layers the store lacks
//	docker tag SRC DST                     name SRC's image DST too
//	docker image rm [--force] REF...       drop the names, then every blob no name needs
//	docker inspect -f TEMPLATE REF         TEMPLATE over {Id, Config, RootFS, Architecture, Os}
//	docker image inspect -f TEMPLATE REF   (the same)
//	docker info --format TEMPLATE          a dockerd with no registry mirror
//
// Anything else fails with a line naming it, so a command the benchmark
// did not expect cannot pass silently. Like dockerd it fetches at most 3
// layers at once (max-concurrent-downloads) and skips a layer whose blob
// it already has. Each pull appends "REF requests=N bytes=B seconds=S" to
// $HOME/store/pulls.log (HTTP requests made, response body bytes read).
//
// One command at a time per store: the benchmark's hosts run their
// commands one after the other, as Kamal does. Test code, not the product.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func main() {
	home, err := os.UserHomeDir()
	if err != nil {
		fail(1, "hostdocker: %v", err)
	}
	s := store{dir: filepath.Join(home, "store")}
	os.Exit(s.run(os.Args[1:], os.Stdout, os.Stderr))
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(code)
}

// noMirror is what `docker info --format '{{index .RegistryConfig.Mirrors 0}}'`
// prints on a dockerd with no mirror (Kamal reads it as "none").
const noMirror = `template: :1:2: executing "" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range`

// store is one host's images: blobs/sha256/HEX and tags/ESCAPED-REF (the
// manifest's digest).
type store struct{ dir string }

func (s store) run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "image" && len(args) > 1 && (args[1] == "rm" || args[1] == "inspect") {
		args = args[1:]
		if args[0] == "rm" {
			args[0] = "rmi"
		}
	}
	var err error
	switch {
	case len(args) == 2 && args[0] == "pull":
		err = s.pull(args[1], stdout)
	case len(args) == 3 && args[0] == "tag":
		err = s.tag(args[1], args[2])
	case len(args) >= 2 && args[0] == "rmi":
		err = s.remove(args[1:], stdout)
	case len(args) == 4 && args[0] == "inspect" && (args[1] == "-f" || args[1] == "--format"):
		err = s.inspect(args[2], args[3], stdout)
	case len(args) == 3 && args[0] == "info" && args[1] == "--format" && strings.Contains(args[2], ".RegistryConfig.Mirrors"):
		err = errors.New(noMirror)
	default:
		err = fmt.Errorf("hostdocker: not a command this stand-in answers: docker %s", strings.Join(args, " "))
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

func (s store) blobPath(h v1.Hash) string { return filepath.Join(s.dir, "blobs", h.Algorithm, h.Hex) }
func (s store) tagPath(ref string) string {
	return filepath.Join(s.dir, "tags", url.PathEscape(normalize(ref)))
}

// normalize spells a reference as docker does (docker.io/library/x:latest).
func normalize(ref string) string {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return ref
	}
	return r.Name()
}

func (s store) has(h v1.Hash) bool {
	_, err := os.Stat(s.blobPath(h))
	return err == nil
}

// countingTransport counts requests and response body bytes.
type countingTransport struct {
	base     http.RoundTripper
	requests atomic.Int64
	bytes    atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.requests.Add(1)
	resp, err := c.base.RoundTrip(req)
	if resp != nil && resp.Body != nil {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
	}
	return resp, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// maxConcurrentDownloads is dockerd's default.
const maxConcurrentDownloads = 3

func (s store) pull(ref string, stdout io.Writer) error {
	start := time.Now()
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("invalid reference format: %v", err)
	}
	ct := &countingTransport{base: remote.DefaultTransport}
	ctx := context.Background()
	img, err := remote.Image(r, remote.WithTransport(ct), remote.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("Error response from daemon: %v", err)
	}
	fmt.Fprintf(stdout, "%s: Pulling from %s\n", r.Identifier(), r.Context().RepositoryStr())
	manifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	if !s.has(cfgName) {
		cfg, err := img.RawConfigFile()
		if err != nil {
			return err
		}
		if err := s.write(cfgName, strings.NewReader(string(cfg))); err != nil {
			return err
		}
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, maxConcurrentDownloads)
		mu   sync.Mutex
		errs []error
	)
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return err
		}
		if s.has(h) {
			fmt.Fprintf(stdout, "%s: Already exists\n", h.Hex[:12])
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			err := s.fetch(h, l)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			fmt.Fprintf(stdout, "%s: Pull complete\n", h.Hex[:12])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := s.write(digest, strings.NewReader(string(manifest))); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := s.setTag(ref, digest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Digest: %s\nStatus: Downloaded newer image for %s\n%s\n", digest, ref, ref)
	f, err := os.OpenFile(filepath.Join(s.dir, "pulls.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s requests=%d bytes=%d seconds=%.3f\n", ref, ct.requests.Load(), ct.bytes.Load(), time.Since(start).Seconds())
	return err
}

func (s store) fetch(h v1.Hash, l v1.Layer) error {
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("fetching %s: %w", h, err)
	}
	defer rc.Close()
	return s.write(h, rc)
}

// write stores r's bytes as blob h, checking its digest; a blob already
// there is kept.
func (s store) write(h v1.Hash, r io.Reader) error {
	if s.has(h) {
		return nil
	}
	dir := filepath.Dir(s.blobPath(h))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	d := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, d), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", h, err)
	}
	if got := "sha256:" + hex.EncodeToString(d.Sum(nil)); got != h.String() {
		return fmt.Errorf("fetching %s: the registry sent %s", h, got)
	}
	return os.Rename(f.Name(), s.blobPath(h))
}

func (s store) setTag(ref string, digest v1.Hash) error {
	if err := os.MkdirAll(filepath.Join(s.dir, "tags"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(s.tagPath(ref), []byte(digest.String()), 0o644)
}

// image reads the manifest and config of the image named ref.
func (s store) image(ref string) (*v1.Manifest, *v1.ConfigFile, error) {
	b, err := os.ReadFile(s.tagPath(ref))
	if err != nil {
		return nil, nil, fmt.Errorf("Error response from daemon: No such image: %s", ref)
	}
	h, err := v1.NewHash(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, nil, err
	}
	mf, err := os.Open(s.blobPath(h))
	if err != nil {
		return nil, nil, err
	}
	defer mf.Close()
	m, err := v1.ParseManifest(mf)
	if err != nil {
		return nil, nil, err
	}
	cf, err := os.Open(s.blobPath(m.Config.Digest))
	if err != nil {
		return nil, nil, err
	}
	defer cf.Close()
	c, err := v1.ParseConfigFile(cf)
	return m, c, err
}

func (s store) tag(src, dst string) error {
	b, err := os.ReadFile(s.tagPath(src))
	if err != nil {
		return fmt.Errorf("Error response from daemon: No such image: %s", src)
	}
	h, err := v1.NewHash(strings.TrimSpace(string(b)))
	if err != nil {
		return err
	}
	return s.setTag(dst, h)
}

// remove drops the names, then every blob no remaining name needs (as
// dockerd deletes an image's layers with its last name).
func (s store) remove(args []string, stdout io.Writer) error {
	var missing []string
	for _, ref := range args {
		if ref == "--force" || ref == "-f" {
			continue
		}
		if err := os.Remove(s.tagPath(ref)); err != nil {
			missing = append(missing, ref)
			continue
		}
		fmt.Fprintf(stdout, "Untagged: %s\n", ref)
	}
	if err := s.collect(); err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("Error response from daemon: No such image: %s", strings.Join(missing, ", "))
	}
	return nil
}

func (s store) collect() error {
	keep := map[string]bool{}
	tags, _ := os.ReadDir(filepath.Join(s.dir, "tags"))
	for _, t := range tags {
		b, err := os.ReadFile(filepath.Join(s.dir, "tags", t.Name()))
		if err != nil {
			return err
		}
		h, err := v1.NewHash(strings.TrimSpace(string(b)))
		if err != nil {
			return err
		}
		keep[h.Hex] = true
		f, err := os.Open(s.blobPath(h))
		if err != nil {
			return err
		}
		m, err := v1.ParseManifest(f)
		f.Close()
		if err != nil {
			return err
		}
		keep[m.Config.Digest.Hex] = true
		for _, l := range m.Layers {
			keep[l.Digest.Hex] = true
		}
	}
	dir := filepath.Join(s.dir, "blobs", "sha256")
	blobs, _ := os.ReadDir(dir)
	for _, b := range blobs {
		if !keep[b.Name()] {
			if err := os.Remove(filepath.Join(dir, b.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s store) inspect(tmpl, ref string, stdout io.Writer) error {
	t, err := template.New("").Parse(tmpl)
	if err != nil {
		return fmt.Errorf("template parsing error: %v", err)
	}
	m, c, err := s.image(ref)
	if err != nil {
		return err
	}
	var out strings.Builder
	if err := t.Execute(&out, map[string]any{
		"Id": m.Config.Digest.String(), "Config": c.Config, "RootFS": c.RootFS,
		"Architecture": c.Architecture, "Os": c.OS,
	}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, out.String())
	return nil
}

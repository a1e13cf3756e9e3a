package layercache

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A BuildKit build with an OCI output into the cache directory
// (docker.build(layer_cache = True)) writes its blobs under blobs/sha256
// and names the image in index.json: one entry per tag, annotated with the
// full name (io.containerd.image.name) and the tag
// (org.opencontainers.image.ref.name); a rebuild of a name replaces its
// entry and appends the new one. BuildKit rewrites index.json in place
// under a lock of its own (index.json.lock) that it only try-locks, so
// kamal-go never takes it: a reader retries a file caught half-written,
// and pruning replaces the file by a rename.

const (
	annotationImageName = "io.containerd.image.name"
	annotationRefName   = "org.opencontainers.image.ref.name"
)

// ociIndex is the part of an OCI image index (index.json, or an index
// blob) kamal-go reads; unknown fields are kept when pruning rewrites it.
type ociIndex struct {
	Manifests []ociDescriptor `json:"manifests"`
}

type ociDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ErrNotNamed is a name the cache's index.json does not list.
var ErrNotNamed = errors.New("not named in the layer cache's index.json")

func (c *Cache) indexPath() string { return filepath.Join(c.dir, "index.json") }

// readIndex reads index.json as raw entries plus the parsed view, retrying
// a few times when it does not parse (BuildKit writes it in place). A
// missing file is os.ErrNotExist (wrapped).
func (c *Cache) readIndex() (map[string]json.RawMessage, []json.RawMessage, []ociDescriptor, error) {
	var err error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		var b []byte
		if b, err = os.ReadFile(c.indexPath()); err != nil {
			return nil, nil, nil, fmt.Errorf("layer cache: %w", err)
		}
		var top map[string]json.RawMessage
		var raw []json.RawMessage
		var parsed []ociDescriptor
		// A Decoder stops at the end of the first value: a shorter index
		// written over a longer one leaves a tail until BuildKit truncates.
		if err = json.NewDecoder(bytes.NewReader(b)).Decode(&top); err != nil {
			continue
		}
		if m, ok := top["manifests"]; ok {
			if err = json.Unmarshal(m, &raw); err != nil {
				continue
			}
			if err = json.Unmarshal(m, &parsed); err != nil {
				continue
			}
		}
		return top, raw, parsed, nil
	}
	return nil, nil, nil, fmt.Errorf("layer cache: index.json: %w", err)
}

// nameForms are the ways BuildKit may have written image name ref: as
// given, and as docker normalizes a Docker Hub name (docker.io/[library/]).
func nameForms(ref string) []string {
	forms := []string{ref}
	first, _, hasSlash := strings.Cut(ref, "/")
	if hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return forms
	}
	if !hasSlash {
		return append(forms, "docker.io/library/"+ref)
	}
	return append(forms, "docker.io/"+ref)
}

// Named returns the digest (a manifest's or an index's) of the newest
// entry of index.json whose image name is ref (io.containerd.image.name,
// docker's normalized form of ref too). It is ErrNotNamed when there is
// none, os.ErrNotExist (wrapped) when no build wrote an index.json here.
func (c *Cache) Named(ref string) (string, error) {
	_, _, entries, err := c.readIndex()
	if err != nil {
		return "", err
	}
	forms := nameForms(ref)
	for i := len(entries) - 1; i >= 0; i-- {
		for _, f := range forms {
			if entries[i].Annotations[annotationImageName] == f && checkDigest(entries[i].Digest) == nil {
				return entries[i].Digest, nil
			}
		}
	}
	return "", fmt.Errorf("%s: %w", ref, ErrNotNamed)
}

// complete reports whether the blob d names is here with every blob it
// refers to: an index's manifests, a manifest's config and layers.
func (c *Cache) complete(d ociDescriptor, depth int) bool {
	if !c.Has(d.Digest) {
		return false
	}
	if depth == 0 || !(strings.Contains(d.MediaType, "manifest") || strings.Contains(d.MediaType, "index")) {
		return true
	}
	b, err := os.ReadFile(c.blobPath(d.Digest))
	if err != nil {
		return false
	}
	var doc struct {
		Config    *ociDescriptor  `json:"config"`
		Layers    []ociDescriptor `json:"layers"`
		Manifests []ociDescriptor `json:"manifests"`
	}
	if json.Unmarshal(b, &doc) != nil {
		return false
	}
	refs := append(doc.Layers, doc.Manifests...)
	if doc.Config != nil {
		refs = append(refs, *doc.Config)
	}
	for _, r := range refs {
		if !c.complete(r, depth-1) {
			return false
		}
	}
	return true
}

// pruneIndex drops from index.json the entries whose blobs (manifest,
// config, layers) are not all here any more, so it stays as bounded as the
// blobs are. It rewrites the file (a temporary file renamed over it) only
// when an entry goes; an index.json that does not parse is removed. A build adding its entry at that very moment may
// lose it: its serve then says the image is not in the cache. It returns
// the bytes the file shrank by.
func (c *Cache) pruneIndex() int64 {
	top, raw, entries, err := c.readIndex()
	if err != nil {
		// Unreadable after the retries: BuildKit could not add to it
		// either ("could not unmarshal"), so it goes; the next build
		// writes a new one.
		if fi, serr := os.Stat(c.indexPath()); serr == nil && !errors.Is(err, os.ErrNotExist) && os.Remove(c.indexPath()) == nil {
			return fi.Size()
		}
		return 0
	}
	if len(raw) != len(entries) {
		return 0
	}
	keep := make([]json.RawMessage, 0, len(raw))
	for i, e := range entries {
		if checkDigest(e.Digest) == nil && c.complete(e, 2) {
			keep = append(keep, raw[i])
		}
	}
	if len(keep) == len(raw) {
		return 0
	}
	m, _ := json.Marshal(keep)
	top["manifests"] = m
	b, err := json.Marshal(top)
	if err != nil {
		return 0
	}
	fi, err := os.Stat(c.indexPath())
	if err != nil {
		return 0
	}
	f, err := os.CreateTemp(c.dir, ".tmp-index-*")
	if err != nil {
		return 0
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), c.indexPath())
	}
	if err != nil {
		os.Remove(f.Name())
		return 0
	}
	return fi.Size() - int64(len(b))
}

// Package layercache keeps image layers on this machine, content-addressed
// by digest (sha256:HEX of the bytes stored: a layer's DiffID for the
// uncompressed tars dockerd's classic store saves, the blob digest for
// compressed ones), plus small records (one per image ID, written by their
// user), so that serving an image already read once needs no second read
// of the image store.
//
// Layout under the cache directory: blobs/sha256/HEX (one file per blob),
// records/sha256/HEX (a record: the sha256 of its body on the first line,
// then the body), lock (flock'ed by eviction), and .tmp-* files being
// written.
//
// Safe for concurrent use by goroutines and by several processes sharing
// the directory: every write goes to a temporary file in the cache
// directory, hashed while written, and is renamed into place only when its
// digest is the one expected (rename is atomic, and two processes writing
// the same blob write the same bytes). Nothing is served unchecked: Blob
// hashes an entry the first time a process opens it and removes it when
// the digest differs; records carry their own checksum. Eviction (least
// recently used first, by modification time, which every use touches)
// runs under an exclusive flock of the lock file; readers take no lock, as
// a file open for reading outlives its removal (POSIX).
package layercache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrMissing is an entry the cache does not hold.
var ErrMissing = errors.New("not in the layer cache")

// ErrCorrupt is an entry whose content does not match its digest; the
// entry has been removed.
var ErrCorrupt = errors.New("corrupt layer cache entry (removed)")

// staleTemp is how old a temporary file must be before eviction takes it
// for the leftover of a killed process rather than a write in progress.
const staleTemp = time.Hour

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// Dir is the cache directory of this user: os.UserCacheDir()/kamal-go/layers
// ($XDG_CACHE_HOME, else ~/.cache, on Linux).
func Dir() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("layer cache: %w", err)
	}
	return filepath.Join(d, "kamal-go", "layers"), nil
}

// Cache is one cache directory, bounded to max bytes.
type Cache struct {
	dir string
	max int64

	mu       sync.Mutex
	verified map[string]bool // blobs hashed (or written) by this process
}

// Open makes dir (and its subdirectories) if needed and returns the cache
// it holds, bounded to maxBytes by Evict.
func Open(dir string, maxBytes int64) (*Cache, error) {
	for _, sub := range []string{"blobs/sha256", "records/sha256"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("layer cache: %w", err)
		}
	}
	return &Cache{dir: dir, max: maxBytes, verified: map[string]bool{}}, nil
}

func (c *Cache) blobPath(digest string) string {
	return filepath.Join(c.dir, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (c *Cache) recordPath(id string) string {
	return filepath.Join(c.dir, "records", "sha256", strings.TrimPrefix(id, "sha256:"))
}

func checkDigest(d string) error {
	if !digestRE.MatchString(d) {
		return fmt.Errorf("layer cache: %q is not a sha256 digest", d)
	}
	return nil
}

// Has reports whether blob digest is in the cache (unchecked: Blob checks).
func (c *Cache) Has(digest string) bool {
	if checkDigest(digest) != nil {
		return false
	}
	_, err := os.Stat(c.blobPath(digest))
	return err == nil
}

// Size is the size of blob digest (unchecked: Blob checks), ErrMissing
// when it is not in the cache.
func (c *Cache) Size(digest string) (int64, error) {
	if err := checkDigest(digest); err != nil {
		return 0, err
	}
	fi, err := os.Stat(c.blobPath(digest))
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%s: %w", digest, ErrMissing)
	}
	if err != nil {
		return 0, fmt.Errorf("layer cache: %w", err)
	}
	return fi.Size(), nil
}

// Touch marks blob digest as just used, for eviction's order.
func (c *Cache) Touch(digest string) {
	if checkDigest(digest) == nil {
		now := time.Now()
		os.Chtimes(c.blobPath(digest), now, now)
	}
}

// Blob opens blob digest for reading, at its start (ReadAt is safe
// concurrently), and touches it. The first open in this process hashes the whole file: a
// content that does not match digest is removed and ErrCorrupt returned.
// An absent blob is ErrMissing. The caller closes the file.
func (c *Cache) Blob(digest string) (*os.File, error) {
	if err := checkDigest(digest); err != nil {
		return nil, err
	}
	p := c.blobPath(digest)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", digest, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	c.Touch(digest)
	c.mu.Lock()
	ok := c.verified[digest]
	c.mu.Unlock()
	if ok {
		return f, nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, fmt.Errorf("layer cache: reading %s: %w", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		f.Close()
		os.Remove(p)
		return nil, fmt.Errorf("%s (content hashes to %s): %w", digest, got, ErrCorrupt)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	c.mu.Lock()
	c.verified[digest] = true
	c.mu.Unlock()
	return f, nil
}

// Writer writes one blob into the cache: its bytes go to a temporary file
// and are hashed as they pass; Commit puts it in place. Not safe for
// concurrent use.
type Writer struct {
	c    *Cache
	f    *os.File
	h    hash.Hash
	size int64
}

// Create starts a blob. The caller ends it with Commit or Abort.
func (c *Cache) Create() (*Writer, error) {
	f, err := os.CreateTemp(filepath.Join(c.dir, "blobs", "sha256"), ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	return &Writer{c: c, f: f, h: sha256.New()}, nil
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.size += int64(n)
	return n, err
}

// Digest is the digest of what was written so far.
func (w *Writer) Digest() string { return "sha256:" + hex.EncodeToString(w.h.Sum(nil)) }

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Commit checks that what was written has digest want, renames it into
// place and returns it open for reading (it stays readable even if
// eviction removes it meanwhile). On a mismatch the file is dropped.
func (w *Writer) Commit(want string) (*os.File, error) {
	got := w.Digest()
	if got != want {
		w.Abort()
		return nil, fmt.Errorf("layer cache: blob written as %s hashes to %s", want, got)
	}
	if err := os.Rename(w.f.Name(), w.c.blobPath(want)); err != nil {
		w.Abort()
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	w.c.mu.Lock()
	w.c.verified[want] = true
	w.c.mu.Unlock()
	return w.f, nil
}

// Abort drops what was written.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// Record returns the body of record id (an image ID, sha256:HEX) and
// touches it. A record whose checksum does not match is removed
// (ErrCorrupt); an absent one is ErrMissing.
func (c *Cache) Record(id string) ([]byte, error) {
	if err := checkDigest(id); err != nil {
		return nil, err
	}
	p := c.recordPath(id)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("record %s: %w", id, ErrMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("layer cache: %w", err)
	}
	sum, body, ok := strings.Cut(string(b), "\n")
	if s := sha256.Sum256([]byte(body)); !ok || sum != hex.EncodeToString(s[:]) {
		os.Remove(p)
		return nil, fmt.Errorf("record %s: %w", id, ErrCorrupt)
	}
	now := time.Now()
	os.Chtimes(p, now, now)
	return []byte(body), nil
}

// PutRecord stores body as record id, atomically.
func (c *Cache) PutRecord(id string, body []byte) error {
	if err := checkDigest(id); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Join(c.dir, "records", "sha256"), ".tmp-*")
	if err != nil {
		return fmt.Errorf("layer cache: %w", err)
	}
	s := sha256.Sum256(body)
	_, err = fmt.Fprintf(f, "%x\n%s", s, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.recordPath(id))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("layer cache: %w", err)
	}
	return nil
}

// RemoveRecord drops record id (a record whose blobs are gone).
func (c *Cache) RemoveRecord(id string) {
	if checkDigest(id) == nil {
		os.Remove(c.recordPath(id))
	}
}

// dropBuildKitLeftovers prunes what a BuildKit OCI output into the cache
// directory leaves besides blobs: index.json keeps only the entries whose
// blobs are all still here (pruneIndex), and ingests older than an hour (a
// killed build's partial blobs) go. It returns the bytes removed.
func (c *Cache) dropBuildKitLeftovers() int64 {
	freed := c.pruneIndex()
	des, _ := os.ReadDir(filepath.Join(c.dir, "ingest"))
	for _, de := range des {
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.RemoveAll(filepath.Join(c.dir, "ingest", de.Name()))
		}
	}
	return freed
}

// entry is one file eviction considers.
type entry struct {
	path string
	size int64
	used time.Time
}

// Evict removes entries, least recently used first, until the cache holds
// at most its bound, and temporary files older than an hour (leftovers of
// killed processes), then prunes BuildKit's leftovers (dropBuildKitLeftovers).
// It holds an exclusive flock on the cache's lock file meanwhile, so two
// processes never evict at once. It returns the number
// of bytes removed.
func (c *Cache) Evict() (int64, error) {
	lock, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return 0, fmt.Errorf("layer cache: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return 0, fmt.Errorf("layer cache: locking: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	var (
		entries []entry
		total   int64
		freed   int64
	)
	for _, sub := range []string{"blobs/sha256", "records/sha256"} {
		des, err := os.ReadDir(filepath.Join(c.dir, sub))
		if err != nil {
			return 0, fmt.Errorf("layer cache: %w", err)
		}
		for _, de := range des {
			fi, err := de.Info()
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			e := entry{filepath.Join(c.dir, sub, de.Name()), fi.Size(), fi.ModTime()}
			if strings.HasPrefix(de.Name(), ".tmp-") {
				if time.Since(e.used) > staleTemp && os.Remove(e.path) == nil {
					freed += e.size
				}
				continue
			}
			entries = append(entries, e)
			total += e.size
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.Before(entries[j].used) })
	for _, e := range entries {
		if total <= c.max {
			break
		}
		if err := os.Remove(e.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return freed, fmt.Errorf("layer cache: %w", err)
		}
		total -= e.size
		freed += e.size
	}
	freed += c.dropBuildKitLeftovers()
	return freed, nil
}

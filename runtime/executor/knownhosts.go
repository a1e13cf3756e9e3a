package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks server host keys against OpenSSH known_hosts files
// (github.com/skeema/knownhosts: hashed names, @cert-authority and
// @revoked lines, several keys per host). Lookups use the address as
// dialled, so ports other than 22 use the "[host]:port" form. What happens
// to a host with no entry follows StrictHostKeyChecking:
//
//   - "accept-new" (the default, net-ssh's in Kamal), "ask": the key is
//     accepted and appended to the first file (created with its directory
//     if needed); a known host presenting a different key is refused.
//   - "yes": unknown hosts are refused too.
//   - "no", "off": unknown hosts are recorded, changed keys accepted.
//
// Safe for concurrent use: checks and appends are serialized. Entries
// written meanwhile (by this process or another) are seen: a set of files
// is parsed once and parsed again only when one of them changed (size,
// modification time or inode) other than by this process's own appends,
// and a host this process appended is looked up in a fresh parse. So a
// pool of N hosts parses known_hosts about once, not 2N times (at 1000
// listed hosts a parse costs milliseconds).
type hostKeys struct {
	debugf func(string, ...any)
	mu     sync.Mutex
	cache  map[string]*parsedHosts // by the file list, joined by "\n"
	parses int                     // parses made (for tests)
}

// parsedHosts is one parse of a set of known_hosts files.
type parsedHosts struct {
	db     *knownhosts.HostKeyDB // nil: none of the files exists
	stamps []fileStamp           // the files as they were parsed (plus own appends)
	// added are the hosts (normalized) this process appended since the
	// parse: the parse does not have them.
	added map[string]bool
}

// fileStamp identifies one state of a file; a file that does not exist
// has the zero stamp.
type fileStamp struct {
	exists     bool
	size       int64
	mtime      int64
	dev, inode uint64
}

func stampOf(fi os.FileInfo) fileStamp {
	st := fileStamp{exists: true, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.inode = uint64(sys.Dev), uint64(sys.Ino)
	}
	return st
}

// hostKeyError is a refused host key; it is reported without handshake
// noise around it.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// callback returns the HostKeyCallback for a connection to t.
func (h *hostKeys) callback(t *target) ssh.HostKeyCallback {
	return func(hostport string, remote net.Addr, key ssh.PublicKey) error {
		return h.check(t, hostport, remote, key)
	}
}

func (h *hostKeys) check(t *target, hostport string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, err := h.load(t.knownHosts, hostport)
	if err != nil {
		return err
	}
	host := t.name
	if db != nil {
		err := db.HostKeyCallback()(hostport, remote, key)
		var keyErr *xknownhosts.KeyError
		var revoked *xknownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &revoked):
			return &hostKeyError{fmt.Sprintf("host key for %s is revoked (%s:%d): refusing to connect", host, revoked.Revoked.Filename, revoked.Revoked.Line)}
		case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
			if t.strict == "no" || t.strict == "off" {
				h.debugf("Host key for %s has changed; StrictHostKeyChecking %s: connecting anyway", host, t.strict)
				return nil
			}
			w := keyErr.Want[0]
			return &hostKeyError{fmt.Sprintf("host key for %s has changed (%s:%d): refusing to connect", host, w.Filename, w.Line)}
		case !errors.As(err, &keyErr):
			return fmt.Errorf("checking host key for %s: %w", host, err)
		}
	}
	if t.strict == "yes" {
		return &hostKeyError{fmt.Sprintf("host key for %s is not known (StrictHostKeyChecking yes): add it to %s (ssh-keyscan), or set StrictHostKeyChecking accept-new", host, strings.Join(t.knownHosts, " "))}
	}
	path := t.knownHosts[0]
	if err := h.add(t.knownHosts, path, hostport, key); err != nil {
		return fmt.Errorf("recording host key for %s: %w", host, err)
	}
	h.debugf("Added %s host key %s for %s to %s", key.Type(), ssh.FingerprintSHA256(key), knownhosts.Normalize(hostport), path)
	return nil
}

// load returns the database of files for looking up hostport: the cached
// parse if no file changed since (other than by this process's appends)
// and hostport is not among the hosts appended since, else a new parse.
// None of the files existing is an empty database (nil). Callers hold h.mu.
func (h *hostKeys) load(files []string, hostport string) (*knownhosts.HostKeyDB, error) {
	stamps := make([]fileStamp, len(files))
	var present []string
	for i, f := range files {
		fi, err := os.Stat(f)
		switch {
		case err == nil:
			stamps[i] = stampOf(fi)
			present = append(present, f)
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("reading known hosts: %w", err)
		}
	}
	key := strings.Join(files, "\n")
	if p := h.cache[key]; p != nil && slices.Equal(p.stamps, stamps) && !p.added[knownhosts.Normalize(hostport)] {
		return p.db, nil
	}
	p := &parsedHosts{stamps: stamps, added: map[string]bool{}}
	if len(present) > 0 {
		h.parses++
		db, err := knownhosts.NewDB(present...)
		if err != nil {
			return nil, fmt.Errorf("reading known hosts: %w", err)
		}
		p.db = db
	}
	if h.cache == nil {
		h.cache = map[string]*parsedHosts{}
	}
	h.cache[key] = p
	return p.db, nil
}

// add appends a plain "[host]:port key" line to path, the first of files.
// When path was exactly as the cached parse of files saw it, the parse is
// kept, with the host marked as appended; otherwise the next load parses
// again. Callers hold h.mu.
func (h *hostKeys) add(files []string, path, hostport string, key ssh.PublicKey) error {
	p := h.cache[strings.Join(files, "\n")]
	delete(h.cache, strings.Join(files, "\n"))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostport)}, key) + "\n"
	// Start on a fresh line if the file does not end with one.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	before, _ := f.Stat()
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	after, _ := f.Stat()
	if err := f.Close(); err != nil {
		return err
	}
	// Keep the parse only if nobody else wrote in between: the file was
	// as parsed before this line and grew by exactly the line.
	if p != nil && before != nil && after != nil && len(p.stamps) > 0 {
		was := fileStamp{}
		if before.Size() > 0 || p.stamps[0].exists {
			was = stampOf(before)
		}
		if was == p.stamps[0] && after.Size() == before.Size()+int64(len(line)) {
			p.stamps[0] = stampOf(after)
			p.added[knownhosts.Normalize(hostport)] = true
			h.cache[strings.Join(files, "\n")] = p
		}
	}
	return nil
}

// algorithms returns the host key algorithms to negotiate with hostport:
// those of keys (and certificate authorities) already known for it, the
// way OpenSSH orders them, so that a server with several host keys shows
// the one recorded rather than being refused as "changed". Nil means the
// package defaults (nothing known).
func (h *hostKeys) algorithms(t *target) []string {
	h.mu.Lock()
	db, err := h.load(t.knownHosts, t.hostport)
	h.mu.Unlock()
	if err != nil || db == nil {
		return nil
	}
	algos := db.HostKeyAlgorithms(t.hostport)
	if len(algos) == 0 {
		return nil
	}
	// The others after them: a server without any of those is then
	// refused as "changed" with the file and line, not with a failed
	// algorithm negotiation.
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !contains(algos, a) {
			algos = append(algos, a)
		}
	}
	return algos
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

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
// Safe for concurrent use: checks and appends are serialized, and the files
// are re-read for every check so entries written meanwhile (by this
// process or another) are seen.
type hostKeys struct {
	debugf func(string, ...any)
	mu     sync.Mutex
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
	db, err := h.load(t.knownHosts)
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
	if err := h.add(path, hostport, key); err != nil {
		return fmt.Errorf("recording host key for %s: %w", host, err)
	}
	h.debugf("Added %s host key %s for %s to %s", key.Type(), ssh.FingerprintSHA256(key), knownhosts.Normalize(hostport), path)
	return nil
}

// load parses the files that exist; none is an empty database (nil).
// Callers hold h.mu.
func (h *hostKeys) load(files []string) (*knownhosts.HostKeyDB, error) {
	var present []string
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			present = append(present, f)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("reading known hosts: %w", err)
		}
	}
	if len(present) == 0 {
		return nil, nil
	}
	db, err := knownhosts.NewDB(present...)
	if err != nil {
		return nil, fmt.Errorf("reading known hosts: %w", err)
	}
	return db, nil
}

// add appends a plain "[host]:port key" line. Callers hold h.mu.
func (h *hostKeys) add(path, hostport string, key ssh.PublicKey) error {
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
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// algorithms returns the host key algorithms to negotiate with hostport:
// those of keys (and certificate authorities) already known for it, the
// way OpenSSH orders them, so that a server with several host keys shows
// the one recorded rather than being refused as "changed". Nil means the
// package defaults (nothing known).
func (h *hostKeys) algorithms(t *target) []string {
	h.mu.Lock()
	db, err := h.load(t.knownHosts)
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

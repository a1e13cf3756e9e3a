package executor

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks server host keys against an OpenSSH known_hosts file
// with "accept new" semantics (net-ssh's default in Kamal): an unknown host
// is accepted and appended to the file (created with its directory if
// needed); a known host presenting a different key is refused. Lookups use
// the address as dialled, so ports other than 22 use the "[host]:port"
// form. Safe for concurrent use: checks and appends are serialized, and the
// file is re-read for every check so entries written meanwhile (by this
// process or another) are seen.
type hostKeys struct {
	path   string
	debugf func(string, ...any)
	mu     sync.Mutex
}

// hostKeyError is a refused host key; it is reported without handshake
// noise around it.
type hostKeyError struct{ msg string }

func (e *hostKeyError) Error() string { return e.msg }

// callback returns the HostKeyCallback for a connection to hostport
// ("name:port" as dialled); host is the name used in error messages.
func (h *hostKeys) callback(host string) ssh.HostKeyCallback {
	return func(hostport string, remote net.Addr, key ssh.PublicKey) error {
		return h.check(host, hostport, remote, key)
	}
}

func (h *hostKeys) check(host, hostport string, remote net.Addr, key ssh.PublicKey) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	db, err := h.load()
	if err != nil {
		return err
	}
	if db != nil {
		err := db(hostport, remote, key)
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &revoked):
			return &hostKeyError{fmt.Sprintf("host key for %s is revoked (%s:%d): refusing to connect", host, revoked.Revoked.Filename, revoked.Revoked.Line)}
		case errors.As(err, &keyErr) && len(keyErr.Want) > 0:
			w := keyErr.Want[0]
			return &hostKeyError{fmt.Sprintf("host key for %s has changed (%s:%d): refusing to connect", host, w.Filename, w.Line)}
		case !errors.As(err, &keyErr):
			return fmt.Errorf("checking host key for %s: %w", host, err)
		}
	}
	if err := h.add(hostport, key); err != nil {
		return fmt.Errorf("recording host key for %s: %w", host, err)
	}
	h.debugf("Added %s host key %s for %s to %s", key.Type(), ssh.FingerprintSHA256(key), knownhosts.Normalize(hostport), h.path)
	return nil
}

// load parses the file; a missing file is an empty database (nil).
// Callers hold h.mu.
func (h *hostKeys) load() (ssh.HostKeyCallback, error) {
	db, err := knownhosts.New(h.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading known hosts: %w", err)
	}
	return db, nil
}

// add appends a plain "[host]:port key" line. Callers hold h.mu.
func (h *hostKeys) add(hostport string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(h.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
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
// those of keys already known for it first, then every other supported
// one, the way OpenSSH and net-ssh order them. Without this a server could
// present a key of another type than the recorded one and be refused as
// "changed". Nil means the package defaults (nothing known).
func (h *hostKeys) algorithms(hostport string) []string {
	h.mu.Lock()
	db, err := h.load()
	h.mu.Unlock()
	if err != nil || db == nil {
		return nil
	}
	// A key nobody has makes the database list what it knows for the host.
	var keyErr *knownhosts.KeyError
	if err := db(hostport, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, probeKey()); !errors.As(err, &keyErr) || len(keyErr.Want) == 0 {
		return nil
	}
	var algos []string
	for _, w := range keyErr.Want {
		for _, a := range algorithmsForKeyType(w.Key.Type()) {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	for _, a := range ssh.SupportedAlgorithms().HostKeys {
		if !slices.Contains(algos, a) {
			algos = append(algos, a)
		}
	}
	return algos
}

// algorithmsForKeyType maps a key type to the signature algorithms that
// use it.
func algorithmsForKeyType(t string) []string {
	switch t {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}
	case ssh.CertAlgoRSAv01:
		return []string{ssh.CertAlgoRSASHA512v01, ssh.CertAlgoRSASHA256v01}
	default:
		return []string{t}
	}
}

var probe = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

func probeKey() ssh.PublicKey { return probe() }

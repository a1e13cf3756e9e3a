package executor

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// defaultKeyFiles are tried (when present) after the agent unless
// KeysOnly is set, in OpenSSH's order.
var defaultKeyFiles = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// namedSigner is a signer plus a human description of where it came from,
// used in "authentication failed (tried keys: ...)".
type namedSigner struct {
	ssh.Signer
	name string
}

// authSource produces the public-key signers for every connection of a
// pool: KeyData, Keys, then (unless KeysOnly) the ssh-agent and the
// default key files. Key files are read once, on first use; the agent is
// asked for its keys on every connection. Safe for concurrent use.
type authSource struct {
	cfg    *SSHConfig
	debugf func(string, ...any)

	once     sync.Once
	explicit []namedSigner // from KeyData and Keys
	defaults []namedSigner // from ~/.ssh/id_*
	agent    *lazyAgent
	err      error
}

// load reads the configured keys. A missing or unreadable file named in
// Keys is an error, returned on every call; encrypted keys (there is no
// passphrase support) and malformed default keys are skipped with a debug
// note.
func (a *authSource) load() error {
	a.once.Do(func() {
		for i, pem := range a.cfg.KeyData {
			if err := a.addKey(&a.explicit, fmt.Sprintf("key_data[%d]", i), pem, true); err != nil {
				a.err = err
				return
			}
		}
		for _, path := range a.cfg.Keys {
			path = expandHome(path)
			pem, err := os.ReadFile(path)
			if err != nil {
				a.err = fmt.Errorf("ssh key %s: %w", path, err)
				return
			}
			if err := a.addKey(&a.explicit, path, pem, true); err != nil {
				a.err = err
				return
			}
		}
		if a.cfg.KeysOnly {
			return
		}
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			a.agent = &lazyAgent{sock: sock}
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return
		}
		for _, name := range defaultKeyFiles {
			path := filepath.Join(home, ".ssh", name)
			if pem, err := os.ReadFile(path); err == nil {
				_ = a.addKey(&a.defaults, path, pem, false)
			}
		}
	})
	return a.err
}

// addKey parses one PEM key into *list. Encrypted keys are skipped with a
// debug note; other parse errors are returned when strict, noted
// otherwise.
func (a *authSource) addKey(list *[]namedSigner, name string, pem []byte, strict bool) error {
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	switch {
	case errors.As(err, &missing):
		a.debugf("ssh key %s is encrypted and no passphrase can be given: skipped", name)
		return nil
	case err != nil && strict:
		return fmt.Errorf("ssh key %s: %w", name, err)
	case err != nil:
		a.debugf("ssh key %s: %v: skipped", name, err)
		return nil
	}
	*list = append(*list, namedSigner{Signer: signer, name: name})
	return nil
}

// signers returns the signers to offer, in order, de-duplicated by public
// key (a key both in the agent and in a file is offered once, which saves
// sshd's MaxAuthTries budget).
func (a *authSource) signers() []namedSigner {
	var all []namedSigner
	seen := map[string]bool{}
	add := func(s namedSigner) {
		if k := string(s.PublicKey().Marshal()); !seen[k] {
			seen[k] = true
			all = append(all, s)
		}
	}
	for _, s := range a.explicit {
		add(s)
	}
	if a.agent != nil {
		keys, err := a.agent.List()
		if err != nil {
			a.debugf("ssh-agent: %v: skipped", err)
		}
		for _, k := range keys {
			add(namedSigner{Signer: &agentSigner{ag: a.agent, pub: k}, name: "agent " + describeKey(k, k.Comment)})
		}
	}
	for _, s := range a.defaults {
		add(s)
	}
	return all
}

// method returns the AuthMethod for one connection and a function that
// describes the keys it offered. One publickey method carries every
// signer: x/crypto tries each kind of AuthMethod only once.
func (a *authSource) method() (ssh.AuthMethod, func() string) {
	var mu sync.Mutex
	var offered []string
	m := ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		ss := a.signers()
		out := make([]ssh.Signer, len(ss))
		names := make([]string, len(ss))
		for i, s := range ss {
			out[i], names[i] = s.Signer, s.name
		}
		mu.Lock()
		offered = names
		mu.Unlock()
		return out, nil
	})
	describe := func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(offered) == 0 {
			return "none"
		}
		return strings.Join(offered, ", ")
	}
	return m, describe
}

// describeKey renders a key as "TYPE SHA256:... comment".
func describeKey(k ssh.PublicKey, comment string) string {
	s := k.Type() + " " + ssh.FingerprintSHA256(k)
	if comment != "" {
		s += " " + comment
	}
	return s
}

// expandHome expands a leading "~/" as Kamal's (Ruby's) key paths do.
func expandHome(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, path[1:])
		}
	}
	return path
}

// agentSigner signs with one agent key.
type agentSigner struct {
	ag  *lazyAgent
	pub ssh.PublicKey
}

func (s *agentSigner) PublicKey() ssh.PublicKey { return s.pub }

func (s *agentSigner) Sign(_ io.Reader, data []byte) (*ssh.Signature, error) {
	return s.ag.SignWithFlags(s.pub, data, 0)
}

// SignWithAlgorithm lets RSA agent keys sign with rsa-sha2-256/512.
func (s *agentSigner) SignWithAlgorithm(_ io.Reader, data []byte, algorithm string) (*ssh.Signature, error) {
	var flags agent.SignatureFlags
	switch algorithm {
	case ssh.KeyAlgoRSASHA256:
		flags = agent.SignatureFlagRsaSha256
	case ssh.KeyAlgoRSASHA512:
		flags = agent.SignatureFlagRsaSha512
	}
	return s.ag.SignWithFlags(s.pub, data, flags)
}

// lazyAgent talks to the ssh-agent at sock, connecting on first use and
// reconnecting after a failure. Calls are serialized: the agent protocol is
// request/response on one socket.
type lazyAgent struct {
	sock string

	mu     sync.Mutex
	conn   net.Conn
	client agent.ExtendedAgent
}

// List returns the agent's keys.
func (l *lazyAgent) List() (keys []*agent.Key, err error) {
	err = l.do(func(ag agent.ExtendedAgent) error {
		keys, err = ag.List()
		return err
	})
	return keys, err
}

// SignWithFlags signs data with the agent key pub.
func (l *lazyAgent) SignWithFlags(pub ssh.PublicKey, data []byte, flags agent.SignatureFlags) (sig *ssh.Signature, err error) {
	err = l.do(func(ag agent.ExtendedAgent) error {
		sig, err = ag.SignWithFlags(pub, data, flags)
		return err
	})
	return sig, err
}

// do runs f against the agent, dropping the connection if f fails so that
// the next call reconnects.
func (l *lazyAgent) do(f func(agent.ExtendedAgent) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.client == nil {
		c, err := net.Dial("unix", l.sock)
		if err != nil {
			return fmt.Errorf("connecting to ssh-agent at %s: %w", l.sock, err)
		}
		l.conn, l.client = c, agent.NewClient(c)
	}
	if err := f(l.client); err != nil {
		l.conn.Close()
		l.conn, l.client = nil, nil
		return err
	}
	return nil
}

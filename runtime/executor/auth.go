package executor

import (
	"bufio"
	"crypto/x509"
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
	"golang.org/x/sys/unix"
)

// defaultKeyFiles are tried (when present) after the agent unless
// KeysOnly (or IdentitiesOnly) is set, in OpenSSH's order.
var defaultKeyFiles = []string{"id_ed25519", "id_ecdsa", "id_rsa"}

// namedSigner is a signer plus a human description of where it came from,
// used in "authentication failed (tried keys: ...)".
type namedSigner struct {
	ssh.Signer
	name string
}

// keyFile is one private key file, read once.
type keyFile struct {
	once   sync.Once
	signer ssh.Signer
	// encrypted is the public half of a passphrase-protected key that
	// could not be decrypted (no terminal): the agent may hold it.
	encrypted ssh.PublicKey
	err       error
}

// authSource produces the public-key signers for the connections of a
// pool: KeyData and Keys (or, when neither is set, the host's ssh_config
// IdentityFiles), then (unless KeysOnly or IdentitiesOnly) the ssh-agent
// and the default key files. Key files are read once, on first use; an
// agent is asked for its keys on every connection. A passphrase-protected
// key is decrypted with the passphrase Passphrase asks for (once per key);
// without Passphrase, the agent must hold it, else a configured key is an
// error saying so and a default key is skipped. Safe for concurrent use.
type authSource struct {
	cfg    *SSHConfig
	debugf func(string, ...any)

	once     sync.Once
	explicit []namedSigner // from KeyData
	err      error

	mu     sync.Mutex
	files  map[string]*keyFile
	agents map[string]*lazyAgent
	asking sync.Mutex // one passphrase prompt at a time
}

// load checks the pool-wide keys: KeyData parsed, every file of Keys
// readable. Its error is returned on every call.
func (a *authSource) load() error {
	a.once.Do(func() {
		for i, pem := range a.cfg.KeyData {
			signer, err := ssh.ParsePrivateKey(pem)
			var missing *ssh.PassphraseMissingError
			if errors.As(err, &missing) {
				a.err = fmt.Errorf("ssh key key_data[%d] is encrypted: key_data must be an unencrypted key (or add the key to ssh-agent and drop key_data)", i)
				return
			}
			if err != nil {
				a.err = fmt.Errorf("ssh key key_data[%d]: %w", i, err)
				return
			}
			a.explicit = append(a.explicit, namedSigner{Signer: signer, name: fmt.Sprintf("key_data[%d]", i)})
		}
		for _, path := range a.cfg.Keys {
			f, err := os.Open(expandHome(path))
			if err != nil {
				a.err = fmt.Errorf("ssh key %s: %w", expandHome(path), err)
				return
			}
			f.Close()
		}
	})
	return a.err
}

// agentFor returns the agent at sock ("" for none), shared by every
// connection using it.
func (a *authSource) agentFor(sock string) *lazyAgent {
	if sock == "" {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.agents == nil {
		a.agents = map[string]*lazyAgent{}
	}
	ag := a.agents[sock]
	if ag == nil {
		ag = &lazyAgent{sock: sock}
		a.agents[sock] = ag
	}
	return ag
}

// file reads (once) the key at path. strict files (configured ones) that
// cannot be used are errors; default ones are skipped.
func (a *authSource) file(path string, strict bool, ag *lazyAgent) (*keyFile, error) {
	a.mu.Lock()
	if a.files == nil {
		a.files = map[string]*keyFile{}
	}
	kf := a.files[path]
	if kf == nil {
		kf = &keyFile{}
		a.files[path] = kf
	}
	a.mu.Unlock()
	kf.once.Do(func() { kf.signer, kf.encrypted, kf.err = a.read(path) })
	if kf.err != nil && strict {
		return nil, kf.err
	}
	if kf.encrypted != nil && !agentHas(ag, kf.encrypted) {
		err := fmt.Errorf("ssh key %s is encrypted and not in ssh-agent: add it (ssh-add %s) or run kamal on a terminal to type its passphrase", path, path)
		if strict {
			return nil, err
		}
		a.debugf("%v: skipped", err)
	}
	return kf, nil
}

// read parses the key at path, asking for its passphrase if it has one
// and a terminal is there.
func (a *authSource) read(path string) (ssh.Signer, ssh.PublicKey, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh key %s: %w", path, err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if !errors.As(err, &missing) {
		if err != nil {
			return nil, nil, fmt.Errorf("ssh key %s: %w", path, err)
		}
		return signer, nil, nil
	}
	pub := missing.PublicKey
	if pub == nil {
		// Legacy PEM encryption hides the public key: OpenSSH reads KEY.pub.
		if b, err := os.ReadFile(path + ".pub"); err == nil {
			pub, _, _, _, _ = ssh.ParseAuthorizedKey(b)
		}
	}
	if a.cfg.Passphrase == nil {
		if pub == nil {
			return nil, nil, fmt.Errorf("ssh key %s is encrypted and has no %s.pub to find it in ssh-agent: add it (ssh-add %s) or run kamal on a terminal to type its passphrase", path, path, path)
		}
		return nil, pub, nil
	}
	a.asking.Lock()
	defer a.asking.Unlock()
	pass, err := a.cfg.Passphrase(path)
	if err != nil {
		return nil, nil, fmt.Errorf("ssh key %s: reading passphrase: %w", path, err)
	}
	signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, pass)
	if errors.Is(err, x509.IncorrectPasswordError) || (err != nil && strings.Contains(err.Error(), "decryption password incorrect")) {
		return nil, nil, fmt.Errorf("ssh key %s: wrong passphrase", path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("ssh key %s: %w", path, err)
	}
	return signer, nil, nil
}

// agentHas says whether ag holds pub.
func agentHas(ag *lazyAgent, pub ssh.PublicKey) bool {
	if ag == nil {
		return false
	}
	keys, err := ag.List()
	if err != nil {
		return false
	}
	want := string(pub.Marshal())
	for _, k := range keys {
		if string(k.Marshal()) == want {
			return true
		}
	}
	return false
}

// prepare reads every key t will offer, so that a configured key that
// cannot be used fails before the connection is made.
func (a *authSource) prepare(t *target) error {
	if err := a.load(); err != nil {
		return err
	}
	ag := a.agentFor(t.agentSock)
	for _, p := range t.keyFiles {
		if _, err := a.file(p, true, ag); err != nil {
			return err
		}
	}
	return nil
}

// signers returns the signers to offer to t, in order, de-duplicated by
// public key (a key both in the agent and in a file is offered once, which
// saves sshd's MaxAuthTries budget).
func (a *authSource) signers(t *target) []namedSigner {
	var all []namedSigner
	seen := map[string]bool{}
	add := func(s namedSigner) {
		if k := string(s.PublicKey().Marshal()); !seen[k] {
			seen[k] = true
			all = append(all, s)
		}
	}
	ag := a.agentFor(t.agentSock)
	for _, s := range a.explicit {
		add(s)
	}
	var agentKeys []*agent.Key
	if ag != nil {
		var err error
		if agentKeys, err = ag.List(); err != nil {
			a.debugf("ssh-agent: %v: skipped", err)
		}
	}
	inAgent := func(pub ssh.PublicKey) *agent.Key {
		for _, k := range agentKeys {
			if string(k.Marshal()) == string(pub.Marshal()) {
				return k
			}
		}
		return nil
	}
	addFile := func(path string, strict bool) {
		kf, err := a.file(path, strict, ag)
		switch {
		case err != nil, kf.err != nil:
		case kf.signer != nil:
			add(namedSigner{Signer: kf.signer, name: path})
		case kf.encrypted != nil:
			if k := inAgent(kf.encrypted); k != nil {
				add(namedSigner{Signer: &agentSigner{ag: ag, pub: k}, name: path + " (from ssh-agent)"})
			}
		}
	}
	for _, p := range t.keyFiles {
		addFile(p, true)
	}
	if t.keysOnly {
		return all
	}
	for _, k := range agentKeys {
		add(namedSigner{Signer: &agentSigner{ag: ag, pub: k}, name: "agent " + describeKey(k, k.Comment)})
	}
	if home, err := os.UserHomeDir(); err == nil {
		for _, name := range defaultKeyFiles {
			path := filepath.Join(home, ".ssh", name)
			if _, err := os.Stat(path); err == nil {
				addFile(path, false)
			}
		}
	}
	return all
}

// method returns the AuthMethod for one connection to t and a function
// that describes the keys it offered. One publickey method carries every
// signer: x/crypto tries each kind of AuthMethod only once.
func (a *authSource) method(t *target) (ssh.AuthMethod, func() string) {
	var mu sync.Mutex
	var offered []string
	m := ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		ss := a.signers(t)
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

// TerminalPassphrase asks for keyFile's passphrase on the controlling
// terminal, as net-ssh does ("Enter passphrase for KEY:"). Echo is turned
// off before the prompt is shown, so nothing typed after it is echoed.
func TerminalPassphrase(keyFile string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer tty.Close()
	fd := int(tty.Fd())
	old, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	noEcho.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, ioctlSetTermios, &noEcho); err != nil {
		return nil, err
	}
	defer unix.IoctlSetTermios(fd, ioctlSetTermios, old)
	fmt.Fprintf(tty, "Enter passphrase for %s:", keyFile)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty)
	if err != nil && line == "" {
		return nil, err
	}
	return []byte(strings.TrimRight(line, "\r\n")), nil
}

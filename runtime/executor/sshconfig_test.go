package executor

import (
	"bytes"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readConfig(t *testing.T, content string) *OpenSSHConfig {
	t.Helper()
	p := writeFile(t, t.TempDir(), "config", content)
	oc, err := ReadOpenSSHConfig([]string{p}, true)
	if err != nil {
		t.Fatal(err)
	}
	return oc
}

// isolatedHome points HOME at an empty directory and drops the agent.
func isolatedHome(t *testing.T) string {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("SSH_AUTH_SOCK", "")
	return home
}

func TestOpenSSHConfigAliasGivesHostUserPortAndKey(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := newKey(t)
	ts := newTestServer(t, signer.PublicKey())
	key := writeFile(t, home, ".ssh/web_key", string(pemKey))
	oc := readConfig(t, "Host web1\n  HostName 127.0.0.1\n  User deployer\n  Port "+strconv.Itoa(ts.port)+"\n  IdentityFile "+key+"\n  IdentitiesOnly yes\n")
	pool := NewSSH(SSHConfig{OpenSSH: oc, KnownHostsFile: filepath.Join(home, "kh")})
	defer pool.Close()
	var out bytes.Buffer
	if status, err := pool.Run(testCtx(t), "web1", Request{Script: "echo hi", Stdout: &out}); err != nil || status != 0 {
		t.Fatalf("status %d, err %v", status, err)
	}
	if got := ts.users(); len(got) != 1 || got[0] != "deployer" {
		t.Errorf("server saw users %q, want [deployer] (ssh_config's User)", got)
	}
	kh, _ := os.ReadFile(filepath.Join(home, "kh"))
	if !strings.HasPrefix(string(kh), "[127.0.0.1]:"+strconv.Itoa(ts.port)+" ") {
		t.Errorf("known_hosts records %q, want the HostName's address", kh)
	}
}

func TestDeployYAMLUserAndPortWinOverOpenSSHConfig(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := newKey(t)
	ts := newTestServer(t, signer.PublicKey())
	oc := readConfig(t, "Host 127.0.0.1\n  User fromconfig\n  Port 1\n")
	pool := NewSSH(SSHConfig{OpenSSH: oc, User: "fromyaml", Port: ts.port, KeyData: [][]byte{pemKey}, KeysOnly: true, KnownHostsFile: filepath.Join(home, "kh")})
	defer pool.Close()
	if _, err := pool.Run(testCtx(t), "127.0.0.1", Request{Script: "true"}); err != nil {
		t.Fatal(err)
	}
	if got := ts.users(); len(got) != 1 || got[0] != "fromyaml" {
		t.Errorf("server saw users %q, want [fromyaml]", got)
	}
}

func TestOpenSSHConfigProxyJumpChain(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := newKey(t)
	target := newTestServer(t, signer.PublicKey())
	jump1 := newTestServer(t, signer.PublicKey())
	jump2 := newTestServer(t, signer.PublicKey())
	key := writeFile(t, home, ".ssh/id_ed25519", string(pemKey))
	_ = key
	oc := readConfig(t, "Host app\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(target.port)+"\n  ProxyJump j1,bob@127.0.0.1:"+strconv.Itoa(jump2.port)+"\n"+
		"Host j1\n  HostName 127.0.0.1\n  Port "+strconv.Itoa(jump1.port)+"\n  User alice\n")
	pool := NewSSH(SSHConfig{OpenSSH: oc, KnownHostsFile: filepath.Join(home, "kh")})
	defer pool.Close()
	for range 2 {
		var out bytes.Buffer
		if status, err := pool.Run(testCtx(t), "app", Request{Script: "echo via", Stdout: &out}); err != nil || status != 0 || out.String() != "via\n" {
			t.Fatalf("status %d, out %q, err %v", status, out.String(), err)
		}
	}
	if jump1.directs.Load() != 1 || jump2.directs.Load() != 1 || target.connections.Load() != 1 {
		t.Errorf("forwards: jump1 %d, jump2 %d; target connections %d; want 1 each", jump1.directs.Load(), jump2.directs.Load(), target.connections.Load())
	}
	if u := jump1.users(); len(u) != 1 || u[0] != "alice" {
		t.Errorf("jump1 users %q, want [alice] (its own ssh_config User)", u)
	}
	if u := jump2.users(); len(u) != 1 || u[0] != "bob" {
		t.Errorf("jump2 users %q, want [bob]", u)
	}
}

func TestProxyCommandCarriesTheConnection(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := newKey(t)
	ts := newTestServer(t, signer.PublicKey())
	ran := filepath.Join(home, "ran")
	cmd := `echo %h %p %r > ` + ran + `; exec bash -c 'exec 3<>/dev/tcp/%h/%p; cat <&3 & exec cat >&3'`
	for _, tc := range []struct {
		name string
		cfg  SSHConfig
	}{
		{"ssh.proxy_command", SSHConfig{ProxyCommand: cmd}},
		{"ssh_config ProxyCommand", SSHConfig{OpenSSH: readConfig(t, "Host 127.0.0.1\n  ProxyCommand "+cmd+"\n")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(ran)
			c := tc.cfg
			c.User, c.Port, c.KeyData, c.KeysOnly, c.KnownHostsFile = "u", ts.port, [][]byte{pemKey}, true, filepath.Join(home, "kh")
			pool := NewSSH(c)
			defer pool.Close()
			var out bytes.Buffer
			if status, err := pool.Run(testCtx(t), "127.0.0.1", Request{Script: "echo ok", Stdout: &out}); err != nil || status != 0 || out.String() != "ok\n" {
				t.Fatalf("status %d, out %q, err %v", status, out.String(), err)
			}
			got, _ := os.ReadFile(ran)
			if want := "127.0.0.1 " + strconv.Itoa(ts.port) + " u\n"; string(got) != want {
				t.Errorf("proxy command saw %q, want %q", got, want)
			}
		})
	}
}

func TestProxyCommandFailureIsNamed(t *testing.T) {
	home := isolatedHome(t)
	_, pemKey := newKey(t)
	pool := NewSSH(SSHConfig{ProxyCommand: "echo no route to %h >&2; exit 7", KeyData: [][]byte{pemKey}, KnownHostsFile: filepath.Join(home, "kh")})
	defer pool.Close()
	_, err := pool.Run(testCtx(t), "bastioned", Request{Script: "true"})
	if err == nil || !strings.Contains(err.Error(), `proxy command "echo no route to bastioned >&2; exit 7" exit status 7: no route to bastioned`) {
		t.Fatalf("err %v", err)
	}
}

func TestOpenSSHConfigBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content, want string
		missing             bool
	}{
		{name: "unknown StrictHostKeyChecking value", content: "Host *\n  StrictHostKeyChecking maybe\n", want: `:2: StrictHostKeyChecking: unknown value "maybe" (expected yes, no, ask, accept-new, off)`},
		{name: "port not a number", content: "Host web\n  Port http\n", want: `:2: Port: "http" is not a port`},
		{name: "bad yes or no", content: "Host web\n\tIdentitiesOnly sometimes\n", want: `:2: IdentitiesOnly: unknown value "sometimes"`},
		{name: "configured file missing", missing: true, want: "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if !tc.missing {
				writeFile(t, dir, filepath.Base(p), tc.content)
			}
			_, err := ReadOpenSSHConfig([]string{p}, true)
			if err == nil || !strings.HasPrefix(err.Error(), "ssh config "+p) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err %v, want one line naming %s and %q", err, p, tc.want)
			}
		})
	}
	// The default files may be missing; a directory in their place is not
	// readable and is an error.
	if oc, err := ReadOpenSSHConfig([]string{filepath.Join(dir, "nope")}, false); err != nil || len(oc.files) != 0 {
		t.Errorf("missing default file: %v", err)
	}
	if _, err := ReadOpenSSHConfig([]string{dir}, false); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("unreadable default file: %v", err)
	}
}

func TestOpenSSHConfigFirstValueWinsAndIdentityFilesAccumulate(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a", "Host web*\n  User first\n  IdentityFile ~/.ssh/a\nHost *\n  User second\n  IdentityFile %d/b\n")
	b := writeFile(t, dir, "b", "Host web1\n  User third\n  Port 2200\n  IdentityFile /c\n")
	oc, err := ReadOpenSSHConfig([]string{a, b}, true)
	if err != nil {
		t.Fatal(err)
	}
	hs, err := oc.lookup("web1")
	if err != nil {
		t.Fatal(err)
	}
	if hs.User != "first" || hs.Port != 2200 || strings.Join(hs.IdentityFiles, " ") != "~/.ssh/a %d/b /c" {
		t.Errorf("got %+v", hs)
	}
}

func encryptedKey(t *testing.T, passphrase string) (ssh.Signer, []byte) {
	signer, priv := newKeyPair(t)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	if err != nil {
		t.Fatal(err)
	}
	return signer, pem.EncodeToMemory(block)
}

func TestEncryptedKeyAskedOncePerKey(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := encryptedKey(t, "s3cret")
	ts := newTestServer(t, signer.PublicKey())
	other := newTestServer(t, signer.PublicKey())
	key := writeFile(t, home, "enc", string(pemKey))
	asked := 0
	pool := NewSSH(SSHConfig{Keys: []string{key}, KeysOnly: true, KnownHostsFile: filepath.Join(home, "kh"),
		Passphrase: func(k string) ([]byte, error) {
			if k != key {
				t.Errorf("asked for %s", k)
			}
			asked++
			return []byte("s3cret"), nil
		}})
	defer pool.Close()
	for _, addr := range []string{ts.addr, other.addr} {
		if _, err := pool.Run(testCtx(t), addr, Request{Script: "true"}); err != nil {
			t.Fatal(err)
		}
	}
	if asked != 1 {
		t.Errorf("asked %d times, want once", asked)
	}
}

func TestEncryptedKeyWrongPassphrase(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := encryptedKey(t, "s3cret")
	ts := newTestServer(t, signer.PublicKey())
	key := writeFile(t, home, "enc", string(pemKey))
	pool := NewSSH(SSHConfig{Keys: []string{key}, KnownHostsFile: filepath.Join(home, "kh"),
		Passphrase: func(string) ([]byte, error) { return []byte("wrong"), nil }})
	defer pool.Close()
	_, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"})
	if err == nil || !strings.HasSuffix(err.Error(), "ssh key "+key+": wrong passphrase") {
		t.Fatalf("err %v", err)
	}
	if ts.accepted.Load() != 0 {
		t.Errorf("connected (%d) with a key that cannot be used", ts.accepted.Load())
	}
}

func TestEncryptedKeyWithoutTerminalUsesTheAgentOrSaysWhatToDo(t *testing.T) {
	home := isolatedHome(t)
	signer, priv := newKeyPair(t)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	key := writeFile(t, home, "enc", string(pem.EncodeToMemory(block)))
	ts := newTestServer(t, signer.PublicKey())

	pool := NewSSH(SSHConfig{Keys: []string{key}, KnownHostsFile: filepath.Join(home, "kh")})
	_, err = pool.Run(testCtx(t), ts.addr, Request{Script: "true"})
	pool.Close()
	want := "ssh key " + key + " is encrypted and not in ssh-agent: add it (ssh-add " + key + ") or run kamal on a terminal to type its passphrase"
	if err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("err %v, want %q", err, want)
	}

	t.Setenv("SSH_AUTH_SOCK", startAgent(t, priv))
	pool = NewSSH(SSHConfig{Keys: []string{key}, KnownHostsFile: filepath.Join(home, "kh"), Debugf: t.Logf})
	defer pool.Close()
	if _, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"}); err != nil {
		t.Fatalf("with the key in the agent: %v", err)
	}
}

func TestPoolIdleTimeoutClosesAndRedials(t *testing.T) {
	f := newSSHFixture(t, func(c *SSHConfig) { c.PoolIdleTimeout = 100 * time.Millisecond })
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle connection to be closed", func() bool { return f.ts.closedConns.Load() == 1 })
	if _, _, _, err := f.run(t, "true"); err != nil {
		t.Fatal(err)
	}
	if got := f.ts.connections.Load(); got != 2 {
		t.Errorf("%d connections, want 2", got)
	}
	// A command running longer than the timeout keeps its connection.
	if _, _, _, err := f.run(t, "sleep 0.5"); err != nil {
		t.Fatal(err)
	}
	if got := f.ts.connections.Load(); got != 2 {
		t.Errorf("busy connection was closed: %d connections", got)
	}
}

func TestStrictHostKeyCheckingYesRefusesUnknownHosts(t *testing.T) {
	f := newSSHFixture(t)
	cfg := f.cfg
	cfg.OpenSSH = readConfig(t, "Host *\n  StrictHostKeyChecking yes\n")
	pool := NewSSH(cfg)
	defer pool.Close()
	_, err := pool.Run(testCtx(t), f.ts.addr, Request{Script: "true"})
	var hk *hostKeyError
	if !errors.As(err, &hk) || !strings.Contains(err.Error(), "is not known (StrictHostKeyChecking yes)") {
		t.Fatalf("err %v", err)
	}
	if _, err := os.Stat(cfg.KnownHostsFile); err == nil {
		t.Error("the unknown host was recorded")
	}
}

// Known hosts written by OpenSSH with HashKnownHosts, and a certificate
// authority for the host: both let a StrictHostKeyChecking yes connection
// in, and nothing new is recorded.
func TestKnownHostsHashedNamesAndCertAuthority(t *testing.T) {
	home := isolatedHome(t)
	signer, pemKey := newKey(t)
	strict := readConfig(t, "Host *\n  StrictHostKeyChecking yes\n")

	ts := newTestServer(t, signer.PublicKey())
	hostport := knownhosts.Normalize(ts.addr)
	kh := writeFile(t, home, "kh_hashed", knownhosts.Line([]string{xknownhosts.HashHostname(hostport)}, ts.hostKey.PublicKey())+"\n")
	pool := NewSSH(SSHConfig{OpenSSH: strict, KeyData: [][]byte{pemKey}, KeysOnly: true, KnownHostsFile: kh})
	if _, err := pool.Run(testCtx(t), ts.addr, Request{Script: "true"}); err != nil {
		t.Fatalf("hashed known host: %v", err)
	}
	pool.Close()

	ca, _ := newKey(t)
	hostSigner, _ := newKey(t)
	cert := &ssh.Certificate{Key: hostSigner.PublicKey(), CertType: ssh.HostCert, ValidPrincipals: []string{"127.0.0.1"}, ValidBefore: ssh.CertTimeInfinity}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	certSigner, err := ssh.NewCertSigner(cert, hostSigner)
	if err != nil {
		t.Fatal(err)
	}
	cs := newTestServerWithKeys(t, []ssh.Signer{certSigner}, signer.PublicKey())
	kh = writeFile(t, home, "kh_ca", "@cert-authority "+knownhosts.Normalize(cs.addr)+" "+string(ssh.MarshalAuthorizedKey(ca.PublicKey())))
	pool = NewSSH(SSHConfig{OpenSSH: strict, KeyData: [][]byte{pemKey}, KeysOnly: true, KnownHostsFile: kh})
	defer pool.Close()
	if _, err := pool.Run(testCtx(t), cs.addr, Request{Script: "true"}); err != nil {
		t.Fatalf("host certified by a known CA: %v", err)
	}
	if b, _ := os.ReadFile(kh); strings.Count(string(b), "\n") != 1 {
		t.Errorf("known_hosts changed:\n%s", b)
	}
}

// Match blocks with criteria only OpenSSH evaluates (exec, user, ...)
// match no host instead of failing the whole file; Match host is applied.
func TestOpenSSHConfigMatchBlocks(t *testing.T) {
	oc := readConfig(t, "Match exec \"true\"\n  User fromexec\nMatch host web1\n  Port 2201\nMatch user bob\n  Port 9\nHost *\n  User root\n")
	hs, err := oc.lookup("web1")
	if err != nil {
		t.Fatal(err)
	}
	if hs.User != "root" || hs.Port != 2201 {
		t.Errorf("got user %q port %d, want root and 2201", hs.User, hs.Port)
	}
}

package executor

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

func khTarget(file, hostport string) *target {
	return &target{name: hostport, hostport: hostport, knownHosts: []string{file}, strict: "accept-new"}
}

func khCheck(h *hostKeys, file, hostport string, key ssh.PublicKey) error {
	addr, _ := net.ResolveTCPAddr("tcp", hostport)
	return h.check(khTarget(file, hostport), hostport, addr, key)
}

// The parse of known_hosts is reused across hosts, but never hides what
// is in the file now: an entry another process wrote after the parse, a
// key this process recorded, a file replaced.
func TestHostKeysCacheSeesTheFileAsItIsNow(t *testing.T) {
	a, b, c := "127.0.0.1:2201", "127.0.0.2:2201", "127.0.0.3:2201"
	keyA, _ := newKeyPair(t)
	keyB, _ := newKeyPair(t)
	other, _ := newKeyPair(t)
	tests := []struct {
		name string
		// between runs after a first check of a (recorded) and b (recorded).
		between func(t *testing.T, file string)
		host    string
		key     ssh.PublicKey
		refused bool
	}{
		{"a host recorded by this process keeps its key", nil, a, keyA.PublicKey(), false},
		{"a host recorded by this process shows another key: refused", nil, a, other.PublicKey(), true},
		{"another process appends a different key for a new host", func(t *testing.T, file string) {
			appendLine(t, file, knownhosts.Line([]string{knownhosts.Normalize(c)}, other.PublicKey()))
		}, c, keyA.PublicKey(), true},
		{"the file is replaced by one without the host: it is recorded again", func(t *testing.T, file string) {
			tmp := file + ".new"
			if err := os.WriteFile(tmp, []byte(knownhosts.Line([]string{knownhosts.Normalize(c)}, other.PublicKey())+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, file); err != nil {
				t.Fatal(err)
			}
		}, b, other.PublicKey(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "known_hosts")
			h := &hostKeys{debugf: func(string, ...any) {}}
			for _, hk := range []struct {
				host string
				key  ssh.PublicKey
			}{{a, keyA.PublicKey()}, {b, keyB.PublicKey()}} {
				if err := khCheck(h, file, hk.host, hk.key); err != nil {
					t.Fatal(err)
				}
			}
			if tt.between != nil {
				tt.between(t, file)
			}
			err := khCheck(h, file, tt.host, tt.key)
			if tt.refused != (err != nil) {
				t.Fatalf("check %s: err = %v, want refused %v", tt.host, err, tt.refused)
			}
			if tt.refused && !strings.Contains(err.Error(), "has changed") {
				t.Fatalf("err = %v, want a changed host key", err)
			}
		})
	}
}

// Hosts known or recorded while nobody else writes the file cost no new
// parse: 100 hosts, first recorded then checked again, parse it once.
func TestHostKeysParsedOncePerPool(t *testing.T) {
	file := filepath.Join(t.TempDir(), "known_hosts")
	h := &hostKeys{debugf: func(string, ...any) {}}
	keys := make([]ssh.PublicKey, 100)
	for i := range keys {
		s, _ := newKeyPair(t)
		keys[i] = s.PublicKey()
		if err := khCheck(h, file, benchHost(i), keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	if h.parses != 0 {
		t.Fatalf("recording 100 hosts in a new file parsed it %d times, want 0", h.parses)
	}
	h2 := &hostKeys{debugf: func(string, ...any) {}}
	for i := range keys {
		tg := khTarget(file, benchHost(i))
		if a := h2.algorithms(tg); len(a) == 0 || a[0] != ssh.KeyAlgoED25519 {
			t.Fatalf("algorithms for %s: %v", tg.hostport, a)
		}
		if err := khCheck(h2, file, benchHost(i), keys[i]); err != nil {
			t.Fatal(err)
		}
	}
	if h2.parses != 1 {
		t.Fatalf("checking 100 listed hosts parsed known_hosts %d times, want 1", h2.parses)
	}
}

func appendLine(t *testing.T, file, line string) {
	t.Helper()
	f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
}

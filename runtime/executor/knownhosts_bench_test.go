package executor

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
)

// BenchmarkHostKeyCheck1000 is what one connection start costs in host key
// work (the algorithms to offer, then the check of the key shown) when
// known_hosts already lists 1000 hosts, as on a second pull to 1000
// servers: one operation is one host.
func BenchmarkHostKeyCheck1000(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	file := filepath.Join(dir, "known_hosts")
	keys := make([]ssh.PublicKey, n)
	var sb strings.Builder
	for i := range keys {
		s, _ := newKeyPair(b)
		keys[i] = s.PublicKey()
		sb.WriteString(knownhosts.Line([]string{knownhosts.Normalize(benchHost(i))}, keys[i]) + "\n")
	}
	if err := os.WriteFile(file, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	h := &hostKeys{debugf: func(string, ...any) {}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % n
		t := &target{name: benchHost(j), hostport: benchHost(j), knownHosts: []string{file}, strict: "accept-new"}
		if a := h.algorithms(t); len(a) == 0 || a[0] != ssh.KeyAlgoED25519 {
			b.Fatalf("algorithms %v", a)
		}
		addr, _ := net.ResolveTCPAddr("tcp", t.hostport)
		if err := h.check(t, t.hostport, addr, keys[j]); err != nil {
			b.Fatal(err)
		}
	}
}

func benchHost(i int) string { return fmt.Sprintf("127.0.%d.%d:2222", i/250, i%250+1) }

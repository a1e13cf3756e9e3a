package e2e

import (
	"fmt"
	"strings"
	"sync"
)

// Every byte the kamal binary printed in this suite (Run, RunEnv and
// Started.Wait record it), and every secret value the suite handed it.
// TestMain fails the suite if any secret appears in any output.
var (
	printedMu sync.Mutex
	printed   strings.Builder
	secrets   []string
)

func recordOutput(parts ...string) {
	printedMu.Lock()
	defer printedMu.Unlock()
	for _, p := range parts {
		printed.WriteString(p)
		printed.WriteByte('\n')
	}
}

// useSecret notes a secret value a test gives kamal (in a secrets file, the
// environment, a config): the suite checks it was never printed.
func useSecret(v string) {
	printedMu.Lock()
	defer printedMu.Unlock()
	secrets = append(secrets, v)
}

// secretsPrinted returns a report of every secret found in the suite's
// output ("" when none).
func secretsPrinted() string {
	printedMu.Lock()
	defer printedMu.Unlock()
	all := append([]string(nil), secrets...)
	if rig != nil && rig.Password != "" {
		all = append(all, rig.Password)
	}
	out := printed.String()
	var b strings.Builder
	for _, s := range all {
		if i := strings.Index(out, s); i >= 0 {
			from, to := max(0, i-120), min(len(out), i+len(s)+40)
			fmt.Fprintf(&b, "secret %q printed by kamal: …%s…\n", s, out[from:to])
		}
	}
	return b.String()
}

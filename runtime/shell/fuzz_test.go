package shell

import (
	"os/exec"
	"strings"
	"testing"
)

// escapable says whether Kamal's escaping is meant to give s back
// unchanged through a shell: no NUL (it cannot be in an argument), no
// control characters (Ruby's dump writes "\n", "\e", … which a shell does
// not decode inside double quotes: Kamal's own behaviour, kept), no "#{",
// "#$" or "#@" (Ruby's dump writes "\#{", and "\#" stays two characters
// in a shell: Kamal's behaviour too), and no "${" (Kamal leaves "${VAR}"
// for the shell to expand, on purpose).
func escapable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	for _, q := range []string{"${", "#{", "#$", "#@"} {
		if strings.Contains(s, q) {
			return false
		}
	}
	return true
}

// FuzzEscape checks that a value escaped for Kamal 2 comes back unchanged
// from `sh -c 'printf %s <escaped>'`, and that Kamal 1's form does for
// printable ASCII.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{
		"", "plain", "with space", `"quoted"`, "it's", "back\\slash", "$HOME", "$(id)", "`id`", "#{x}", "#$x", "#@x",
		"100%", "a*b?[c]", "~user", "é ü 日本 🙂", "\xff\xfe", "x$", "$", "}{", "${", "a;b|c&d>e<f", "!event",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !escapable(s) {
			return
		}
		check := func(name, escaped string) {
			out, err := exec.Command("/bin/sh", "-c", "printf %s "+escaped).Output()
			if err != nil {
				t.Fatalf("%s(%q) = %s: sh failed: %v", name, s, escaped, err)
			}
			if string(out) != s {
				t.Fatalf("%s(%q) = %s came back as %q", name, s, escaped, out)
			}
		}
		check("Escape", Escape(s))
		ascii := true
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				ascii = false
			}
		}
		if ascii {
			check("EscapeV1", EscapeV1(s))
		}
	})
}

package ruby

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InspectString is Ruby's String#inspect of UTF-8 text: double quotes,
// backslash escapes for quotes, backslashes, the named control characters
// and "#{", "#$", "#@"; \u for what Ruby does not print (other control
// characters, line and paragraph separators, unassigned code points);
// invalid bytes as \xHH. It is the one owner of how Kamal's messages
// quote a string.
func InspectString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, `\x%02X`, s[i])
			i++
			continue
		}
		next := byte(0)
		if i+n < len(s) {
			next = s[i+n]
		}
		i += n
		if esc, ok := namedEscapes[r]; ok {
			b.WriteString(esc)
			continue
		}
		switch {
		case r == '#' && (next == '{' || next == '$' || next == '@'):
			b.WriteString(`\#`)
		case printable(r):
			b.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			fmt.Fprintf(&b, `\u{%X}`, r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var namedEscapes = map[rune]string{
	'"': `\"`, '\\': `\\`, '\n': `\n`, '\t': `\t`, '\r': `\r`, '\f': `\f`, '\v': `\v`,
	'\a': `\a`, '\b': `\b`, 0x1b: `\e`,
}

// printable is what Ruby's inspect shows as is: all but control
// characters (NEL excepted), line and paragraph separators, surrogates
// and unassigned code points.
func printable(r rune) bool {
	switch {
	case r == 0x85:
		return true
	case unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp, unicode.Cs):
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cf, unicode.Co)
}

// InspectStrings is Array#inspect of strings: ["a", "b"].
func InspectStrings(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = InspectString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

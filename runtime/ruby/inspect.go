package ruby

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// InspectString is Ruby's String#inspect of UTF-8 text: double quotes,
// backslash escapes for quotes, backslashes, control characters and "#{",
// "#$", "#@"; invalid bytes as \xHH. It is the one owner of how Kamal's
// messages quote a string.
func InspectString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case 0x1b:
			b.WriteString(`\e`)
		case '#':
			if i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '$' || s[i+1] == '@') {
				b.WriteString(`\#`)
			} else {
				b.WriteByte('#')
			}
		default:
			if r == utf8.RuneError && len(s) > i && s[i] >= 0x80 {
				fmt.Fprintf(&b, `\x%02X`, s[i])
			} else if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\x%02X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// InspectStrings is Array#inspect of strings: ["a", "b"].
func InspectStrings(ss []string) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = InspectString(s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

package shell

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Escape renders s as a double-quoted shell word the way Kamal 2 does
// (its Utils.escape_shell_value, so that logs read as Kamal's): runs of ASCII are dumped Ruby-style inside double quotes,
// runs of non-ASCII characters are emitted raw between them, backticks are
// escaped, and every "$" is escaped unless it opens a "${...}" group, which
// is left for the shell to expand.
func Escape(s string) string {
	if s == "" {
		return `""`
	}
	var b strings.Builder
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] < utf8.RuneSelf {
			i++
		}
		if i > 0 {
			b.WriteString(dumpASCII(s[:i]))
			s = s[i:]
			continue
		}
		for i < len(s) && s[i] >= utf8.RuneSelf {
			i++
		}
		b.WriteString(s[:i])
		s = s[i:]
	}
	return b.String()
}

// EscapeV1 is Kamal 1's form: the whole string dumped at once, non-ASCII
// characters as \u escapes (uppercase hex, \u{...} above U+FFFF, as Ruby's
// String#dump writes them) and invalid UTF-8 bytes as \xHH.
func EscapeV1(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r < utf8.RuneSelf:
			b.WriteString(dumpByte(s[0]))
		case r == utf8.RuneError && size == 1:
			// An invalid byte: Ruby dumps it as \xHH.
			fmt.Fprintf(&b, `\x%02X`, s[0])
		case r > 0xFFFF:
			fmt.Fprintf(&b, `\u{%X}`, r)
		default:
			fmt.Fprintf(&b, `\u%04X`, r)
		}
		s = s[size:]
	}
	return finish(b.String())
}

func dumpASCII(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(dumpByte(s[i]))
	}
	return finish(b.String())
}

func dumpByte(c byte) string {
	switch c {
	case '"':
		return `\"`
	case '\\':
		return `\\`
	case '\n':
		return `\n`
	case '\t':
		return `\t`
	case '\r':
		return `\r`
	case 0x1b:
		return `\e`
	case 0x07:
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\v':
		return `\v`
	}
	if c < 0x20 || c == 0x7f {
		return fmt.Sprintf(`\x%02X`, c)
	}
	return string(c)
}

// finish applies Ruby dump's interpolation escapes and Kamal's backtick and
// dollar escapes to an already dumped body, then adds the quotes.
func finish(body string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			// Keep existing escapes intact, including \$ produced below.
			b.WriteByte(c)
			b.WriteByte(body[i+1])
			i++
		case c == '#' && i+1 < len(body) && (body[i+1] == '{' || body[i+1] == '$' || body[i+1] == '@'):
			b.WriteString(`\#`)
		case c == '`':
			b.WriteString("\\`")
		case c == '$':
			if i+1 < len(body) && body[i+1] == '{' && strings.IndexByte(body[i+1:], '}') > 0 {
				b.WriteByte('$')
			} else {
				b.WriteString(`\$`)
			}
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// Shellwords escapes s the way Ruby's Shellwords.escape (String#shellescape)
// does, which Kamal 2 uses for paths and `kamal secrets fetch` for its
// output: every character outside [A-Za-z0-9_-.,:+/@] gets a backslash,
// non-ASCII characters too (Ruby's pattern matches them), a newline
// becomes a quoted newline, and the empty string becomes a pair of single
// quotes. It is the one shell-escaping rule for words kamal-go itself
// hands to a shell.
func Shellwords(s string) string {
	if s == "" {
		return "''"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString("'\n'")
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:+/@", r)):
			b.WriteRune(r)
		default:
			b.WriteByte('\\')
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Quote renders s as one POSIX shell word: unchanged when it holds only
// characters no shell treats specially ([A-Za-z0-9_-.,:+/@=%^]), else in
// single quotes (a single quote inside becomes '\”). It is how a word a
// user script passes to cmd() reaches the command as that one word.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.,:+/@=%^", c) >= 0) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

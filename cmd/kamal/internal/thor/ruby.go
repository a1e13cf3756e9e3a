package thor

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a command line Thor refuses: Kamal prints Msg (one or more
// lines) on standard error, nothing else, and exits with status 1.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// InvalidBytesError is Ruby's ArgumentError for a word that is not UTF-8
// (Thor matches every word against a regular expression): Kamal prints it
// as its ERROR line.
type InvalidBytesError struct{}

func (InvalidBytesError) Error() string { return "invalid byte sequence in UTF-8" }

// Class is the Ruby class Kamal names.
func (InvalidBytesError) Class() string { return "ArgumentError" }

// rubyNumber is Ruby's to_f of a decimal and to_i of an integer, as a
// float64.
func rubyNumber(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// Inspect is Ruby's String#inspect for a UTF-8 string, as Thor's
// messages show a word: quotes, backslash escapes, \u for what Ruby
// does not print, \xHH for a byte that is not UTF-8.
func Inspect(s string) string {
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
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '#':
			if next == '{' || next == '$' || next == '@' {
				b.WriteByte('\\')
			}
			b.WriteByte('#')
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\f':
			b.WriteString(`\f`)
		case '\v':
			b.WriteString(`\v`)
		case '\b':
			b.WriteString(`\b`)
		case '\a':
			b.WriteString(`\a`)
		case 0x1b:
			b.WriteString(`\e`)
		default:
			switch {
			case rubyPrintable(r):
				b.WriteRune(r)
			case r < 0x10000:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\u{%X}`, r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rubyPrintable is what Ruby's inspect shows as is: all but control
// characters (NEL excepted), line and paragraph separators, surrogates
// and unassigned code points.
func rubyPrintable(r rune) bool {
	switch {
	case r == 0x85:
		return true
	case unicode.In(r, unicode.Cc, unicode.Zl, unicode.Zp, unicode.Cs):
		return false
	}
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs, unicode.Cf, unicode.Co)
}

// InspectList is Ruby's Array#inspect of words.
func InspectList(words []string) string {
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = Inspect(w)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

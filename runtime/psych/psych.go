// Package psych renders values as Ruby's Psych (Object#to_yaml) prints
// them, for `kamal config`: the document marker, symbols as :name, block
// sequences at their key's indentation, and Psych's choice of plain,
// single-quoted, double-quoted or literal style for each string.
package psych

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// Symbol is a Ruby symbol (:name).
type Symbol string

// Pair is one entry of a Map; Key is a Symbol or a string.
type Pair struct {
	Key, Value any
}

// Map is a Ruby Hash: entries in insertion order.
type Map []Pair

// Object is a Ruby object Psych dumps with its class tag and instance
// variables (Net::SSH::Proxy::Jump, say).
type Object struct {
	Class string
	Ivars Map
}

// Dump renders v as `v.to_yaml` does. Supported values: Map, []any,
// []string, Object, Symbol, string, int, float64, bool and nil.
func Dump(v any) string {
	var b strings.Builder
	b.WriteString("---")
	node(&b, v, 0, true)
	return b.String()
}

// node writes v after a "key:" or "-" that is already on the line.
func node(b *strings.Builder, v any, indent int, top bool) {
	switch v := v.(type) {
	case Map:
		if len(v) == 0 {
			b.WriteString(" {}\n")
			return
		}
		b.WriteString("\n")
		mapBody(b, v, indent)
	case Object:
		b.WriteString(" !ruby/object:" + v.Class + "\n")
		mapBody(b, v.Ivars, indent)
	case []string:
		l := make([]any, len(v))
		for i, s := range v {
			l[i] = s
		}
		node(b, l, indent, top)
	case []any:
		if len(v) == 0 {
			b.WriteString(" []\n")
			return
		}
		b.WriteString("\n")
		// Psych puts a mapping's block sequence at the key's indentation.
		seqIndent := indent - 2
		if top || seqIndent < 0 {
			seqIndent = indent
		}
		for _, e := range v {
			b.WriteString(strings.Repeat(" ", seqIndent) + "-")
			switch e := e.(type) {
			case Map:
				if len(e) == 0 {
					b.WriteString(" {}\n")
					continue
				}
				// The first entry shares the dash's line.
				var inner strings.Builder
				mapBody(&inner, e, seqIndent+2)
				b.WriteString(" " + strings.TrimLeft(inner.String(), " "))
			default:
				node(b, e, seqIndent+2, false)
			}
		}
	default:
		b.WriteString(" " + scalar(v, indent) + "\n")
	}
}

func mapBody(b *strings.Builder, m Map, indent int) {
	for _, p := range m {
		b.WriteString(strings.Repeat(" ", indent) + key(p.Key) + ":")
		node(b, p.Value, indent+2, false)
	}
}

func key(k any) string {
	if s, ok := k.(Symbol); ok {
		return ":" + string(s)
	}
	return scalar(k, 0)
}

func scalar(v any, indent int) string {
	switch v := v.(type) {
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		switch {
		case math.IsInf(v, 1):
			return ".inf"
		case math.IsInf(v, -1):
			return "-.inf"
		case math.IsNaN(v):
			return ".nan"
		case v == math.Trunc(v) && math.Abs(v) < 1e16:
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case Symbol:
		return ":" + string(v)
	case string:
		return str(v, indent)
	}
	return str(fmt.Sprint(v), indent)
}

var (
	startsNonWord = regexp.MustCompile(`^[^\pL\pN_][^"]*$`)
	plainPrefix   = regexp.MustCompile(`^[^\d.:-]?[\pL_\s!@#$%^&*(){}<>|/\\~;=]+`)
	integerRE     = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$`)
	floatRE       = regexp.MustCompile(`^(?:[-+]?([0-9][0-9_,]*)?\.[0-9]*([eE][-+][0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$`)
	sexagesimal   = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(:[0-5]?[0-9]){1,2}(\.[0-9_]*)?$`)
	dateRE        = regexp.MustCompile(`^\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)$`)
	timeRE        = regexp.MustCompile(`^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$`)
	nullRE        = regexp.MustCompile(`(?i)^(?:~|null)$`)
	boolRE        = regexp.MustCompile(`(?i)^(?:yes|true|on|no|false|off)$`)
	badOctal      = regexp.MustCompile(`^0[0-7]*[89]`)
)

// str picks Psych's style for a string.
func str(s string, indent int) string {
	switch {
	case strings.Contains(strings.TrimSuffix(s, "\n"), "\n"):
		return literal(s, indent)
	case s == "y" || s == "Y" || s == "n" || s == "N":
		return doubleQuoted(s)
	case startsNonWord.MatchString(s):
		return doubleQuoted(s)
	case !resolvesToString(s) || badOctal.MatchString(s):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	case needsQuotes(s):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return s
}

// resolvesToString is Psych's ScalarScanner#tokenize returning a String.
func resolvesToString(s string) bool {
	if s == "" {
		return false
	}
	if plainPrefix.MatchString(s) {
		if len(s) > 5 {
			return true
		}
		return !nullRE.MatchString(s) && !boolRE.MatchString(s)
	}
	switch {
	case timeRE.MatchString(s), dateRE.MatchString(s), strings.HasPrefix(s, ":") && len(s) > 1,
		sexagesimal.MatchString(s), floatRE.MatchString(s) && s != "." && s != "+." && s != "-.", integerRE.MatchString(s):
		return false
	}
	return true
}

// needsQuotes is libyaml's refusal of a plain scalar: indicators it
// cannot start with, ": " or " #" inside, blanks at the ends.
func needsQuotes(s string) bool {
	if strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") || strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") {
		return true
	}
	if strings.ContainsAny(s[:1], "-?:,[]{}#&*!|>'\"%@`") {
		return true
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' {
			return true
		}
	}
	return false
}

func doubleQuoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case '\n':
			b.WriteString(`\n`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\x%02X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// literal is a block scalar: |- without a final newline, | with one.
func literal(s string, indent int) string {
	head := "|-"
	if strings.HasSuffix(s, "\n") {
		head = "|"
		s = strings.TrimSuffix(s, "\n")
	}
	pad := strings.Repeat(" ", max(indent, 2))
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return head + "\n" + strings.Join(lines, "\n")
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	yaml3 "go.yaml.in/yaml/v3"
	yaml4 "go.yaml.in/yaml/v4"
)

// Kamal loads the rendered deploy.yml with Psych (YAML.unsafe_load of a
// string), so a syntax error reads
//
//	(<unknown>): PROBLEM CONTEXT at line L column C
//
// with libyaml's problem and context, and L:C taken from libyaml's
// context mark (psych's parser.c make_exception). The context mark is
// where the construct being read began; for a scanner error without a
// context it is where the problem is; for a parser error without a
// context it was never set, so Psych prints line 1 column 1.
//
// go.yaml.in/yaml/v3 (the parser here: it accepts what libyaml accepts)
// reports only the problem and a line. The context and its mark come from
// go.yaml.in/yaml/v4, whose LoadError carries them, when v4 fails on the
// same problem; v4 is not the parser because it refuses documents libyaml
// reads (a comment right after a quoted scalar, content after "...").
// Where v4 reads the document differently (it is laxer about simple keys,
// tabs and block mappings), libyamlGuess places the context mark from v3's
// line. What stays different is an error go-yaml v3 itself finds
// elsewhere than libyaml 0.2.5 (a stray ']' in a block mapping, say).

// psychUnknownSource is what Psych names a string it parsed.
const psychUnknownSource = "<unknown>"

var (
	yaml3Error      = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	yaml3BadAnchor  = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)
	yaml4Hexdecimal = "did not find expected hexadecimal number"
)

// libyamlQuotedScalarEscapes are the problems libyaml reports "while
// parsing a quoted scalar" (v4 says "scanning").
var libyamlQuotedScalarEscapes = map[string]bool{
	"found unknown escape character":              true,
	"did not find expected hexdecimal number":     true,
	"found invalid Unicode character escape code": true,
}

// psychLoadError turns go-yaml's refusal of src (err) into the error
// Psych raises for it: Psych::SyntaxError with libyaml's problem,
// context, line and column, or Psych::BadAlias for an alias to no anchor.
func psychLoadError(src []byte, err error) *Error {
	line, problem, ok := yaml3Failure(err)
	if !ok {
		return newError(kamalerr.ClassYAMLSyntax, "(%s): %s", psychUnknownSource, err.Error())
	}
	if a := yaml3BadAnchor.FindStringSubmatch(problem); a != nil {
		// Psych reads the whole document before it resolves an alias: a
		// syntax error anywhere in it comes first.
		if serr := syntaxErrorPastAliases(src); serr != nil {
			return serr
		}
		return newError(kamalerr.ClassYAMLBadAlias, "Unknown alias: %s", a[1])
	}
	return psychSyntaxError(src, line, problem)
}

// yaml3Failure splits go-yaml v3's "yaml: [line N: ]problem".
func yaml3Failure(err error) (line int, problem string, ok bool) {
	m := yaml3Error.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, "", false
	}
	line, _ = strconv.Atoi(m[1])
	return line, m[2], true
}

// psychSyntaxError is Psych's SyntaxError for problem, which v3 reported
// on line (0: none).
func psychSyntaxError(src []byte, line int, problem string) *Error {
	where, context, ok := libyamlPosition(src, problem)
	if !ok {
		where, context, ok = libyamlGuess(src, line, problem)
	}
	if !ok {
		// Neither way places it: say what is known, no column.
		if line == 0 {
			return newError(kamalerr.ClassYAMLSyntax, "(%s): %s", psychUnknownSource, problem)
		}
		where = fmt.Sprintf("line %d", line)
	}
	if context != "" {
		problem += " " + context
	}
	return newError(kamalerr.ClassYAMLSyntax, "(%s): %s at %s", psychUnknownSource, problem, where)
}

// maxAliasesPassed bounds syntaxErrorPastAliases's reparses.
const maxAliasesPassed = 32

// syntaxErrorPastAliases looks past each alias to no anchor (v4 telling
// where it is) for a syntax error later in src; nil when there is none,
// or an alias cannot be placed.
func syntaxErrorPastAliases(src []byte) *Error {
	buf := append([]byte(nil), src...)
	for range maxAliasesPassed {
		var doc yaml3.Node
		err := yaml3.Unmarshal(buf, &doc)
		if err == nil {
			return nil
		}
		line, problem, ok := yaml3Failure(err)
		if !ok {
			return nil
		}
		if !yaml3BadAnchor.MatchString(problem) {
			return psychSyntaxError(buf, line, problem)
		}
		var doc4 yaml4.Node
		var le *yaml4.LoadError
		if !errors.As(yaml4.Unmarshal(buf, &doc4), &le) || le.Stage != yaml4.ComposerStage {
			return nil
		}
		off := byteOffset(buf, le.Mark.Line, le.Mark.Column)
		if off < 0 || buf[off] != '*' {
			return nil
		}
		// An empty flow sequence stands in for the alias: a whole node,
		// as the alias is, so the tokens around it read the same.
		end := off + 1
		for end < len(buf) && isAnchorChar(rune(buf[end])) {
			end++
		}
		copy(buf[off:end], "[]"+strings.Repeat(" ", end-off-2))
	}
	return nil
}

// byteOffset is the offset in src of the 1-based line and (character)
// column, or -1.
func byteOffset(src []byte, line, column int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	for c := 1; c < column; c++ {
		if off >= len(src) || src[off] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(src[off:])
		off += size
	}
	if off >= len(src) {
		return -1
	}
	return off
}

// libyamlPosition asks go-yaml v4 where libyaml reports problem in src:
// "line L column C" of the context mark and the context, if any. ok is
// false when v4 does not fail with that problem.
func libyamlPosition(src []byte, problem string) (where, context string, ok bool) {
	var doc yaml4.Node
	var le *yaml4.LoadError
	if err := yaml4.Unmarshal(src, &doc); !errors.As(err, &le) {
		return "", "", false
	}
	got := le.Message
	if got == yaml4Hexdecimal {
		got = "did not find expected hexdecimal number" // libyaml's spelling
	}
	if got != problem {
		return "", "", false
	}
	context = le.ContextMsg
	if libyamlQuotedScalarEscapes[problem] {
		context = "while parsing a quoted scalar"
	}
	mark := le.ContextMark
	switch {
	case context != "":
	case le.Stage == yaml4.ScannerStage:
		mark = le.Mark
	default:
		mark = yaml4.Mark{Line: 1, Column: 1}
	}
	if mark.Line == 0 || mark.Column == 0 {
		return "", "", false
	}
	return fmt.Sprintf("line %d column %d", mark.Line, mark.Column), context, true
}

// libyamlGuess places the errors v4 reads differently from libyaml (it
// is laxer about simple keys, tabs and block mappings) from v3's line: for
// a scanner error the 1-based line of the context mark, for a parser error
// its 0-based line, either way the problem's when the context is on the
// first line. The column is where libyaml's context mark is on such a
// line.
func libyamlGuess(src []byte, line int, problem string) (where, context string, ok bool) {
	col := -1
	if problem == "did not find expected key" {
		context = "while parsing a block mapping"
		for _, l := range []int{line + 1, 1} {
			if text, ok := lineText(src, l); ok && startsKey(text) {
				line, col = l, tokenStart(text)
				break
			}
		}
		return atColumn(line, col, context)
	}
	if open, ok := unclosedFlow[problem]; ok {
		// A parser error: v3's line is the 0-based line of the '[' or '{'.
		if text, ok := lineText(src, line+1); ok {
			col = lastIndexRune(text, open)
		}
		return atColumn(line+1, col, map[rune]string{'[': "while parsing a flow sequence", '{': "while parsing a flow mapping"}[open])
	}
	text, ok := lineText(src, line)
	if !ok {
		return "", "", false
	}
	switch problem {
	case "could not find expected ':'":
		context, col = "while scanning a simple key", tokenStart(text)
	case "found a tab character that violates indentation":
		context, col = "while scanning a plain scalar", plainValueStart(text)
	case "found character that cannot start any token":
		context, col = "while scanning for the next token", indexRuneIn(text, "\t@`")
	case "did not find expected alphabetic or numeric character":
		col = badAnchorIndicator(text)
		if col >= 0 && text[col] == '&' {
			context = "while scanning an anchor"
		} else {
			context = "while scanning an alias"
		}
	}
	return atColumn(line, col, context)
}

// unclosedFlow: the opening bracket of the flow collection libyaml names
// for each problem.
var unclosedFlow = map[string]rune{
	"did not find expected ',' or ']'": '[',
	"did not find expected ',' or '}'": '{',
}

func lastIndexRune(text []rune, r rune) int {
	for i := len(text) - 1; i >= 0; i-- {
		if text[i] == r {
			return i
		}
	}
	return -1
}

func atColumn(line, col int, context string) (where, ctx string, ok bool) {
	if col < 0 {
		return "", "", false
	}
	return fmt.Sprintf("line %d column %d", line, col+1), context, true
}

// startsKey reports whether a block mapping may start on the line: a
// "key:" after any block indicators.
func startsKey(text []rune) bool {
	i := tokenStart(text)
	if i >= len(text) || text[i] == '#' || text[i] == ':' {
		return false
	}
	for j := i; j < len(text); j++ {
		if text[j] == ':' && (j+1 == len(text) || text[j+1] == ' ' || text[j+1] == '\t') {
			return true
		}
	}
	return false
}

// lineText is the 1-based line of src as characters.
func lineText(src []byte, line int) ([]rune, bool) {
	if line < 1 {
		return nil, false
	}
	lines := bytes.Split(src, []byte("\n"))
	if line > len(lines) {
		return nil, false
	}
	return []rune(string(lines[line-1])), true
}

// tokenStart is where a line's first token after the block indicators
// ("- ", "? ") starts.
func tokenStart(text []rune) int {
	i := skipSpaces(text, 0)
	for i+1 < len(text) && (text[i] == '-' || text[i] == '?') && (text[i+1] == ' ' || text[i+1] == '\t') {
		i = skipSpaces(text, i+1)
	}
	return i
}

// plainValueStart is where the plain scalar of a "key: value" or
// "- value" line starts.
func plainValueStart(text []rune) int {
	i := tokenStart(text)
	for j := i; j+1 < len(text); j++ {
		if text[j] == ':' && (text[j+1] == ' ' || text[j+1] == '\t') {
			return skipSpaces(text, j+1)
		}
	}
	return i
}

func skipSpaces(text []rune, i int) int {
	for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
		i++
	}
	return i
}

func indexRuneIn(text []rune, set string) int {
	for i, r := range text {
		for _, s := range set {
			if r == s {
				return i
			}
		}
	}
	return -1
}

// badAnchorIndicator is the first '&' or '*' starting a token whose name
// is empty or runs into a character libyaml does not let end it.
func badAnchorIndicator(text []rune) int {
	for i, r := range text {
		if r != '&' && r != '*' || i > 0 && !strings.ContainsRune(" \t[{,", text[i-1]) {
			continue
		}
		j := i + 1
		for j < len(text) && isAnchorChar(text[j]) {
			j++
		}
		if j == i+1 || j < len(text) && !strings.ContainsRune(" \t?:,]}%@`", text[j]) {
			return i
		}
	}
	return -1
}

// isAnchorChar: libyaml's anchor names are letters, digits, '_' and '-'.
func isAnchorChar(r rune) bool {
	return r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

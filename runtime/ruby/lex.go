package ruby

import (
	"strings"
)

// This file is the lexer of the Ruby subset that erb.go evaluates (see
// eval.go for what the subset is). The ERB template is turned into one
// token stream, as Ruby's ERB turns it into one Ruby program: text between
// tags becomes a tkText token, "<%= code %>" becomes tkOutBegin, the code's
// tokens and tkOutEnd, and "<% code %>" the code's tokens and a separator.
// Control flow (if/end, each do/end) may therefore span tags.

type tokKind int

const (
	tkEOF      tokKind = iota
	tkText             // template text, s is the text
	tkOutBegin         // start of a <%= tag
	tkOutEnd           // end of a <%= tag
	tkSep              // ";" or a newline
	tkIdent            // local variable, method or keyword (s); may end in ? or !
	tkConst            // constant name (s)
	tkInt              // integer literal (s, digits)
	tkStr              // string literal: s is the raw body, q the quote kind
	tkRegexp           // regexp literal: s is the body, flags in q
	tkOp               // operator or punctuation (s)
	tkIVar             // @x, $x: never supported, kept for the message
)

// Quote kinds of tkStr tokens.
const (
	qSingle  = "'"  // no escapes but \\ and \', no interpolation
	qDouble  = "\"" // escapes and #{} interpolation
	qCommand = "`"  // like qDouble, then run as a command
	qWords   = "w"  // %w(): whitespace separated words
)

type token struct {
	kind tokKind
	s    string
	q    string
	line int
	// spaced says whitespace came before the token (Ruby uses it to tell
	// `a [1]` from `a[1]`, `x -1` from `x - 1`).
	spaced bool
	// tag is the code of the ERB tag the token belongs to, for messages.
	tag string
}

// lexError is a piece of code the lexer does not understand.
type lexError struct {
	line int
	what string
}

// rubyLexer tokenizes one piece of Ruby code.
type rubyLexer struct {
	src  string
	pos  int
	line int
	tag  string
	toks []token
	err  *lexError
}

// lexRuby appends the tokens of code (starting at line) to toks.
func lexRuby(code string, line int, tag string, toks []token) ([]token, *lexError) {
	lx := &rubyLexer{src: code, line: line, tag: tag, toks: toks}
	lx.run()
	return lx.toks, lx.err
}

func (lx *rubyLexer) fail(what string) {
	if lx.err == nil {
		lx.err = &lexError{line: lx.line, what: what}
	}
	lx.pos = len(lx.src)
}

func (lx *rubyLexer) emit(kind tokKind, s, q string, line int, spaced bool) {
	lx.toks = append(lx.toks, token{kind: kind, s: s, q: q, line: line, spaced: spaced, tag: lx.tag})
}

// valueBefore says the previous token ends an operand, so "/" and "%" are
// operators rather than the start of a literal.
func (lx *rubyLexer) valueBefore() bool {
	if len(lx.toks) == 0 {
		return false
	}
	t := lx.toks[len(lx.toks)-1]
	switch t.kind {
	case tkInt, tkStr, tkRegexp, tkConst, tkIVar:
		return true
	case tkIdent:
		return !rubyKeywords[t.s]
	case tkOp:
		return t.s == ")" || t.s == "]" || t.s == "}"
	}
	return false
}

var rubyKeywords = map[string]bool{
	"if": true, "unless": true, "else": true, "elsif": true, "end": true, "then": true,
	"begin": true, "rescue": true, "ensure": true, "do": true, "and": true, "or": true,
	"not": true, "while": true, "until": true, "case": true, "when": true, "return": true,
	"def": true, "class": true, "module": true, "yield": true, "in": true,
}

func (lx *rubyLexer) run() {
	for lx.pos < len(lx.src) {
		spaced := false
		for lx.pos < len(lx.src) {
			c := lx.src[lx.pos]
			if c == ' ' || c == '\t' || c == '\r' {
				lx.pos++
				spaced = true
				continue
			}
			if c == '\\' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '\n' {
				lx.pos += 2
				lx.line++
				spaced = true
				continue
			}
			if c == '#' { // comment to the end of the line
				for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
					lx.pos++
				}
				continue
			}
			break
		}
		if lx.pos >= len(lx.src) {
			return
		}
		line := lx.line
		c := lx.src[lx.pos]
		switch {
		case c == '\n' || c == ';':
			lx.pos++
			if c == '\n' {
				lx.line++
			}
			lx.emit(tkSep, string(c), "", line, spaced)
		case c >= '0' && c <= '9':
			start := lx.pos
			for lx.pos < len(lx.src) && (isDigit(lx.src[lx.pos]) || lx.src[lx.pos] == '_') {
				lx.pos++
			}
			if lx.pos < len(lx.src) && (lx.src[lx.pos] == '.' && lx.pos+1 < len(lx.src) && isDigit(lx.src[lx.pos+1]) || isIdentByte(lx.src[lx.pos])) {
				lx.fail("number " + lx.src[start:min(lx.pos+2, len(lx.src))])
				return
			}
			lx.emit(tkInt, strings.ReplaceAll(lx.src[start:lx.pos], "_", ""), "", line, spaced)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 0x80:
			s := lx.word()
			lx.emit(tkIdent, s, "", line, spaced)
		case c >= 'A' && c <= 'Z':
			start := lx.pos
			for lx.pos < len(lx.src) && isIdentByte(lx.src[lx.pos]) {
				lx.pos++
			}
			lx.emit(tkConst, lx.src[start:lx.pos], "", line, spaced)
		case c == '@' || c == '$':
			start := lx.pos
			lx.pos++
			for lx.pos < len(lx.src) && (isIdentByte(lx.src[lx.pos]) || lx.src[lx.pos] == '@') {
				lx.pos++
			}
			if lx.pos == start+1 && lx.pos < len(lx.src) {
				lx.pos++ // $? $0 ...
			}
			lx.emit(tkIVar, lx.src[start:lx.pos], "", line, spaced)
		case c == '"' || c == '\'' || c == '`':
			lx.pos++
			body, ok := lx.quoted(c, c)
			if !ok {
				lx.fail("unterminated string")
				return
			}
			lx.emit(tkStr, body, string(c), line, spaced)
		case c == '/' && (!lx.valueBefore() || lx.spacedOperand(spaced)):
			lx.pos++
			body, ok := lx.quoted('/', '/')
			if !ok {
				lx.fail("unterminated regexp")
				return
			}
			lx.emit(tkRegexp, body, lx.regexpFlags(), line, spaced)
		case c == '%' && (!lx.valueBefore() || lx.spacedOperand(spaced)) && lx.percentLiteral(line, spaced):
		case c == '?' && lx.pos+1 < len(lx.src) && isIdentByte(lx.src[lx.pos+1]) && (lx.pos+2 >= len(lx.src) || !isIdentByte(lx.src[lx.pos+2])) && !lx.valueBefore():
			// ?a character literal
			lx.emit(tkStr, lx.src[lx.pos+1:lx.pos+2], qSingle, line, spaced)
			lx.pos += 2
		default:
			for _, op := range rubyOps {
				if strings.HasPrefix(lx.src[lx.pos:], op) {
					lx.pos += len(op)
					lx.emit(tkOp, op, "", line, spaced)
					goto next
				}
			}
			lx.fail(string(c))
			return
		next:
		}
	}
}

// spacedOperand is Ruby's rule for `foo /x/` and `foo %x(y)`: after an
// identifier, a space before and none after makes a literal.
func (lx *rubyLexer) spacedOperand(spaced bool) bool {
	t := lx.toks[len(lx.toks)-1]
	return spaced && t.kind == tkIdent && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] != ' ' && lx.src[lx.pos+1] != '='
}

// rubyOps are the operators, longest first.
var rubyOps = []string{
	"**=", "<=>", "===", "...", "&&=", "||=",
	"==", "!=", "=~", "!~", "&&", "||", "<=", ">=", "<<", ">>", "::", "..", "&.", "=>", "+=", "-=", "*=", "**",
	"+", "-", "*", "/", "%", "=", "<", ">", "!", "?", ":", ".", ",", "(", ")", "[", "]", "{", "}", "|", "&", "^", "~",
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (lx *rubyLexer) word() string {
	start := lx.pos
	for lx.pos < len(lx.src) && isIdentByte(lx.src[lx.pos]) {
		lx.pos++
	}
	// exist? strip! (but not a != b or x ?a : b)
	if lx.pos < len(lx.src) && (lx.src[lx.pos] == '?' || lx.src[lx.pos] == '!') &&
		(lx.pos+1 >= len(lx.src) || lx.src[lx.pos+1] != '=' || lx.pos+2 < len(lx.src) && lx.src[lx.pos+2] == '=') {
		lx.pos++
	}
	return lx.src[start:lx.pos]
}

func (lx *rubyLexer) regexpFlags() string {
	start := lx.pos
	for lx.pos < len(lx.src) && strings.IndexByte("imxounse", lx.src[lx.pos]) >= 0 {
		lx.pos++
	}
	return lx.src[start:lx.pos]
}

// quoted reads up to the unescaped close byte (open nests when it differs
// from close) and returns the raw body, skipping over #{...} so that a
// quote inside an interpolation does not end the literal.
func (lx *rubyLexer) quoted(open, close byte) (string, bool) {
	start, depth := lx.pos, 1
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\':
			lx.pos += 2
			continue
		case c == '\n':
			lx.line++
		case c == '#' && close != '\'' && lx.pos+1 < len(lx.src) && lx.src[lx.pos+1] == '{':
			end := interpolationEnd(lx.src, lx.pos+2)
			if end < 0 {
				return "", false
			}
			lx.line += strings.Count(lx.src[lx.pos:end], "\n")
			lx.pos = end
			continue
		case c == close && open != close:
			depth--
		case c == open && open != close:
			depth++
		case c == close:
			depth = 0
		}
		if depth == 0 {
			s := lx.src[start:lx.pos]
			lx.pos++
			if lx.pos > len(lx.src) {
				lx.pos = len(lx.src)
			}
			return s, true
		}
		lx.pos++
	}
	return "", false
}

// interpolationEnd returns the offset just after the "}" closing an
// interpolation whose code starts at from, or -1. Strings inside it are
// skipped so that their braces do not count.
func interpolationEnd(src string, from int) int {
	depth := 1
	for i := from; i < len(src); i++ {
		switch c := src[i]; c {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		case '"', '\'', '`':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		}
	}
	return -1
}

// percentLiteral lexes %x() %q() %Q() %() %w() %r() at pos; false when the
// text there is not one (then % is an operator).
func (lx *rubyLexer) percentLiteral(line int, spaced bool) bool {
	rest := lx.src[lx.pos+1:]
	if rest == "" {
		return false
	}
	kind := byte('Q')
	if strings.IndexByte("xqQwWr", rest[0]) >= 0 {
		kind = rest[0]
		rest = rest[1:]
	}
	if rest == "" || isIdentByte(rest[0]) || rest[0] == ' ' || rest[0] == '\n' || rest[0] == '=' && kind == 'Q' {
		return false
	}
	open := rest[0]
	close := open
	switch open {
	case '(':
		close = ')'
	case '[':
		close = ']'
	case '{':
		close = '}'
	case '<':
		close = '>'
	}
	lx.pos = len(lx.src) - len(rest) + 1
	body, ok := lx.quoted(open, close)
	if !ok {
		lx.fail("unterminated %" + string(kind) + " literal")
		return true
	}
	switch kind {
	case 'x':
		lx.emit(tkStr, body, qCommand, line, spaced)
	case 'q':
		lx.emit(tkStr, body, qSingle, line, spaced)
	case 'Q':
		lx.emit(tkStr, body, qDouble, line, spaced)
	case 'w':
		lx.emit(tkStr, body, qWords, line, spaced)
	case 'W':
		lx.fail("%W literal")
	case 'r':
		lx.emit(tkRegexp, body, lx.regexpFlags(), line, spaced)
	}
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

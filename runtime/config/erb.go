package config

import (
	"strconv"
	"strings"
	"unicode"
)

// This file renders the subset of ERB that real deploy.yml files use. Ruby
// is not available, so instead of evaluating arbitrary code the renderer
// understands a small expression language:
//
//	ENV["X"]  ENV['X']            the variable, or nil (renders "") when unset
//	ENV.fetch("X")                the variable, or KeyError `key not found: "X"`
//	ENV.fetch("X", "default")     the variable, or the default
//	"literal"  'literal'          Ruby string literals (no #{} interpolation)
//	`cmd`  %x(cmd)  %x{cmd}       stdout of /bin/sh -c cmd, verbatim
//	a || b                        b when a is nil
//	x.strip  x.chomp  x.to_s      the String methods of the same name
//	nil, ( expr )
//
// Tags: <%= expr %> inserts, <%# ... %> is a comment, <% %> with only
// whitespace inside is allowed, <%% is a literal "<%". Kamal 2's trim mode
// "-" is always on: "-%>" drops the newline that follows it and "<%-" at the
// start of a line drops the indentation before it. Any other Ruby is
// reported as `<file>:<line>: unsupported ERB: <code> (supported: ...)`.

const erbSupported = `(supported: ENV["X"], ENV.fetch, string literals, backticks and %x())`

// erbContext is what an ERB rendering may consult.
type erbContext struct {
	name   string                      // file name for messages
	getenv func(string) (string, bool) // the ENV Ruby would see
	// run returns a command's stdout; an error only when it cannot start
	// (a failing command is not an error in Ruby: its output is used).
	run func(command string) (string, error)
	// lenient turns a failed ENV.fetch into "" and records the KeyError in
	// fetchErr instead of stopping (used to find the generation first).
	lenient  bool
	fetchErr error
	// misses are the variables looked up but not set, in lookup order.
	misses []string
}

func (cx *erbContext) lookup(key string) (string, bool) {
	v, ok := cx.getenv(key)
	if !ok {
		cx.misses = append(cx.misses, key)
	}
	return v, ok
}

// renderERB renders src. Errors name cx.name and the line of the tag.
func renderERB(src string, cx *erbContext) (string, error) {
	var out strings.Builder
	pos := 0
	for pos < len(src) {
		i := strings.Index(src[pos:], "<%")
		if i < 0 {
			out.WriteString(src[pos:])
			break
		}
		start := pos + i
		out.WriteString(src[pos:start])
		if strings.HasPrefix(src[start:], "<%%") {
			out.WriteString("<%")
			pos = start + 3
			continue
		}
		line := 1 + strings.Count(src[:start], "\n")
		bodyStart := start + 2
		kind := byte(0)
		if bodyStart < len(src) {
			switch src[bodyStart] {
			case '=', '#':
				kind = src[bodyStart]
				bodyStart++
			case '-':
				bodyStart++
				lineStart := strings.LastIndexByte(src[:start], '\n') + 1
				if strings.Trim(src[lineStart:start], " \t") == "" {
					trimTrailingIndent(&out, start-lineStart)
				}
			}
		}
		body, end, trim, ok := scanTagBody(src, bodyStart)
		if !ok {
			return "", newError(ClassConfiguration, "%s:%d: unterminated ERB tag", cx.name, line)
		}
		pos = end
		if trim {
			if strings.HasPrefix(src[pos:], "\n") {
				pos++
			} else if strings.HasPrefix(src[pos:], "\r\n") {
				pos += 2
			}
		}
		switch kind {
		case '#':
			continue
		case '=':
			s, err := evalERB(body, line, cx)
			if err != nil {
				return "", err
			}
			out.WriteString(s)
		default:
			if strings.TrimSpace(body) != "" {
				return "", unsupportedERB(cx.name, line, body)
			}
		}
	}
	return out.String(), nil
}

// trimTrailingIndent removes the last n bytes (spaces and tabs that were
// just copied from the source) from out.
func trimTrailingIndent(out *strings.Builder, n int) {
	s := out.String()
	if n > len(s) {
		n = len(s)
	}
	s = s[:len(s)-n]
	out.Reset()
	out.WriteString(s)
}

// scanTagBody finds the end of a tag whose body starts at from. It returns
// the body (with "%%>" unescaped), the offset after the closing delimiter,
// and whether the delimiter was "-%>".
func scanTagBody(src string, from int) (body string, end int, trim, ok bool) {
	var b strings.Builder
	for i := from; i < len(src); i++ {
		switch {
		case strings.HasPrefix(src[i:], "%%>"):
			b.WriteString("%>")
			i += 2
		case strings.HasPrefix(src[i:], "-%>"):
			return b.String(), i + 3, true, true
		case strings.HasPrefix(src[i:], "%>"):
			return b.String(), i + 2, false, true
		default:
			b.WriteByte(src[i])
		}
	}
	return "", 0, false, false
}

func unsupportedERB(name string, line int, code string) *Error {
	code = strings.Join(strings.Fields(code), " ")
	// Control characters (a NUL, an escape) would garble the one error
	// line: show such code Go-quoted instead.
	if strings.IndexFunc(code, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		code = strconv.Quote(code)
	}
	return newError(ClassConfiguration, "%s:%d: unsupported ERB: %s %s", name, line, code, erbSupported)
}

// erbValue is a Ruby value in the subset: a String or nil.
type erbValue struct {
	s     string
	isNil bool
}

// erbExpr is a parsed expression, evaluated lazily so that the right side
// of || (which may run a command) is only evaluated when needed.
type erbExpr func() (erbValue, error)

func evalERB(body string, line int, cx *erbContext) (string, error) {
	if strings.TrimSpace(body) == "" {
		return "", nil // <%= %> is nil.to_s
	}
	p := &erbParser{src: body, cx: cx, line: line}
	expr, err := p.parse()
	if err != nil {
		return "", err
	}
	v, err := expr()
	if err != nil {
		return "", err
	}
	return v.s, nil
}

type erbParser struct {
	src  string
	pos  int
	cx   *erbContext
	line int
}

func (p *erbParser) unsupported() error { return unsupportedERB(p.cx.name, p.line, p.src) }

func (p *erbParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *erbParser) accept(tok string) bool {
	p.skipSpace()
	if strings.HasPrefix(p.src[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// acceptWord accepts an identifier-like token not followed by another
// identifier character.
func (p *erbParser) acceptWord(w string) bool {
	p.skipSpace()
	rest := p.src[p.pos:]
	if !strings.HasPrefix(rest, w) {
		return false
	}
	if len(rest) > len(w) && isIdentByte(rest[len(w)]) {
		return false
	}
	p.pos += len(w)
	return true
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func (p *erbParser) parse() (erbExpr, error) {
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, p.unsupported()
	}
	return e, nil
}

func (p *erbParser) parseOr() (erbExpr, error) {
	left, err := p.parsePostfix()
	if err != nil {
		return nil, err
	}
	for p.accept("||") {
		right, err := p.parsePostfix()
		if err != nil {
			return nil, err
		}
		l := left
		left = func() (erbValue, error) {
			v, err := l()
			if err != nil || !v.isNil {
				return v, err
			}
			return right()
		}
	}
	return left, nil
}

func (p *erbParser) parsePostfix() (erbExpr, error) {
	e, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		if !p.accept(".") {
			return e, nil
		}
		var method string
		for _, m := range []string{"strip", "chomp", "to_s"} {
			if p.acceptWord(m) {
				method = m
				break
			}
		}
		if method == "" {
			p.pos = save
			return nil, p.unsupported()
		}
		recv, line, name := e, p.line, p.cx.name
		e = func() (erbValue, error) {
			v, err := recv()
			if err != nil {
				return v, err
			}
			if method == "to_s" {
				return erbValue{s: v.s}, nil
			}
			if v.isNil {
				return v, newError(ClassNoMethod, "%s:%d: undefined method '%s' for nil", name, line, method)
			}
			if method == "strip" {
				return erbValue{s: strings.Trim(v.s, " \t\n\v\f\r\x00")}, nil
			}
			return erbValue{s: rubyChomp(v.s)}, nil
		}
	}
}

func (p *erbParser) parsePrimary() (erbExpr, error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, p.unsupported()
	}
	switch c := p.src[p.pos]; {
	case c == '"' || c == '\'':
		s, err := p.parseString()
		if err != nil {
			return nil, err
		}
		return constant(s), nil
	case c == '`':
		p.pos++
		raw, ok := p.until('`')
		if !ok {
			return nil, p.unsupported()
		}
		return p.command(raw)
	case strings.HasPrefix(p.src[p.pos:], "%x"):
		p.pos += 2
		raw, ok := p.percentLiteral()
		if !ok {
			return nil, p.unsupported()
		}
		return p.command(raw)
	case c == '(':
		p.pos++
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.accept(")") {
			return nil, p.unsupported()
		}
		return e, nil
	}
	if p.acceptWord("nil") {
		return func() (erbValue, error) { return erbValue{isNil: true}, nil }, nil
	}
	if p.acceptWord("ENV") {
		return p.parseEnv()
	}
	return nil, p.unsupported()
}

func constant(s string) erbExpr {
	return func() (erbValue, error) { return erbValue{s: s}, nil }
}

func (p *erbParser) parseEnv() (erbExpr, error) {
	cx := p.cx
	if p.accept("[") {
		key, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.accept("]") {
			return nil, p.unsupported()
		}
		return func() (erbValue, error) {
			k, err := key()
			if err != nil {
				return k, err
			}
			v, ok := cx.lookup(k.s)
			return erbValue{s: v, isNil: !ok}, nil
		}, nil
	}
	if !p.accept(".") || !p.acceptWord("fetch") || !p.accept("(") {
		return nil, p.unsupported()
	}
	key, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	var def erbExpr
	if p.accept(",") {
		if def, err = p.parseOr(); err != nil {
			return nil, err
		}
	}
	if !p.accept(")") {
		return nil, p.unsupported()
	}
	return func() (erbValue, error) {
		k, err := key()
		if err != nil {
			return k, err
		}
		if v, ok := cx.lookup(k.s); ok {
			return erbValue{s: v}, nil
		}
		if def != nil {
			return def()
		}
		kerr := keyNotFound(k.s)
		if cx.lenient {
			if cx.fetchErr == nil {
				cx.fetchErr = kerr
			}
			return erbValue{}, nil
		}
		return erbValue{}, kerr
	}, nil
}

func (p *erbParser) command(raw string) (erbExpr, error) {
	cmd, err := p.unescapeDouble(raw)
	if err != nil {
		return nil, err
	}
	cx := p.cx
	return func() (erbValue, error) {
		out, err := cx.run(cmd)
		return erbValue{s: out}, err
	}, nil
}

// until returns the text up to the next unescaped close byte and moves
// past it.
func (p *erbParser) until(close byte) (string, bool) {
	start := p.pos
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c == '\\' {
			p.pos += 2
			continue
		}
		if c == close {
			s := p.src[start:p.pos]
			p.pos++
			return s, true
		}
		p.pos++
	}
	return "", false
}

// percentLiteral reads the delimited body of %x: paired brackets nest,
// any other punctuation closes with itself.
func (p *erbParser) percentLiteral() (string, bool) {
	if p.pos >= len(p.src) {
		return "", false
	}
	open := p.src[p.pos]
	var close byte
	switch open {
	case '(':
		close = ')'
	case '{':
		close = '}'
	case '[':
		close = ']'
	case '<':
		close = '>'
	default:
		if isIdentByte(open) || open == ' ' {
			return "", false
		}
		p.pos++
		return p.until(open)
	}
	p.pos++
	start, depth := p.pos, 1
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; c {
		case '\\':
			p.pos++
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				s := p.src[start:p.pos]
				p.pos++
				return s, true
			}
		}
		p.pos++
	}
	return "", false
}

func (p *erbParser) parseString() (string, error) {
	q := p.src[p.pos]
	p.pos++
	raw, ok := p.until(q)
	if !ok {
		return "", p.unsupported()
	}
	if q == '\'' {
		var b strings.Builder
		for i := 0; i < len(raw); i++ {
			if raw[i] == '\\' && i+1 < len(raw) && (raw[i+1] == '\\' || raw[i+1] == '\'') {
				i++
			}
			b.WriteByte(raw[i])
		}
		return b.String(), nil
	}
	return p.unescapeDouble(raw)
}

// unescapeDouble applies Ruby's double-quoted string escapes. Interpolation
// (#{...}) is not supported.
func (p *erbParser) unescapeDouble(raw string) (string, error) {
	if strings.Contains(raw, "#{") {
		return "", p.unsupported()
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' || i+1 >= len(raw) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := raw[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 's':
			b.WriteByte(' ')
		case '0':
			b.WriteByte(0)
		case 'e':
			b.WriteByte(0x1b)
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '\n':
			// line continuation
		default:
			b.WriteByte(e)
		}
	}
	return b.String(), nil
}

// rubyChomp removes one trailing "\r\n", "\n" or "\r".
func rubyChomp(s string) string {
	switch {
	case strings.HasSuffix(s, "\r\n"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "\n"), strings.HasSuffix(s, "\r"):
		return s[:len(s)-1]
	}
	return s
}

package ruby

import (
	"regexp"
	"strconv"
	"strings"
)

// This file parses the token stream of lex.go into the tree eval.go
// runs. Whatever the parser does not know (a method, a constant, a
// keyword, a syntax) makes it stop with *rbUnsupported before anything
// has run, so the whole file can be handed to Ruby instead.

type node interface{}

type (
	nText struct{ s string }
	nOut  struct{ body []node }
	nLit  struct{ v rv }
	nStr  struct{ parts []node } // interpolated string: parts' to_s joined
	nCmd  struct {
		parts []node
		line  int
	}
	nArray  struct{ elems []node }
	nLocal  struct{ name string }
	nAssign struct {
		name string
		val  node
		or   bool // ||=
	}
	nIf struct {
		cond      node
		then, els []node
	}
	nAnd struct{ l, r node }
	nOr  struct{ l, r node }
	nNot struct{ x node }
	nBin struct {
		op   string
		l, r node
		line int
	}
	nCall struct {
		recv  node // nil: a receiverless call (require, __dir__)
		name  string
		args  []node
		block *nBlock
		safe  bool // &.
		line  int
		tag   string
	}
	nConst struct{ name string }
	nBlock struct {
		params []string
		body   []node
	}
	nBegin struct {
		body    []node
		rescues []rescueClause
		ensure  []node
	}
	nRange struct {
		lo, hi    node
		exclusive bool
	}
)

type rescueClause struct {
	classes []string // empty: StandardError
	bind    string
	body    []node
}

// rbUnsupported is code outside the subset.
type rbUnsupported struct {
	line int
	what string // the construct
	tag  string // the tag's code
}

func (u *rbUnsupported) Error() string { return u.what }

// maxDepth bounds the parser's recursion so that no input (a fuzzer's
// "((((((...") can exhaust the stack; real code never nests this deep.
const maxDepth = 200

type rubyParser struct {
	toks   []token
	pos    int
	scopes []map[string]bool
	depth  int
}

func parseRuby(toks []token) (body []node, err *rbUnsupported) {
	p := &rubyParser{toks: toks, scopes: []map[string]bool{{}}}
	defer func() {
		if r := recover(); r != nil {
			u, ok := r.(*rbUnsupported)
			if !ok {
				panic(r)
			}
			body, err = nil, u
		}
	}()
	body = p.stmts()
	if t := p.peek(); t.kind != tkEOF {
		p.unsupported(t, describe(t))
	}
	return body, nil
}

func (p *rubyParser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	t := token{kind: tkEOF}
	if len(p.toks) > 0 {
		last := p.toks[len(p.toks)-1]
		t.line, t.tag = last.line, last.tag
	}
	return t
}

func (p *rubyParser) next() token {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

func (p *rubyParser) unsupported(t token, what string) {
	panic(&rbUnsupported{line: t.line, what: what, tag: t.tag})
}

func describe(t token) string {
	switch t.kind {
	case tkEOF:
		return "end of code"
	case tkText:
		return "text between tags"
	case tkOutBegin, tkOutEnd:
		return "an output tag inside an expression"
	case tkSep:
		return "a line break"
	case tkStr:
		if t.q == qCommand {
			return "`" + t.s + "`"
		}
		return t.q + t.s + t.q
	}
	return t.s
}

func (p *rubyParser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tkOp && t.s == s
}

func (p *rubyParser) acceptOp(s string) bool {
	if p.isOp(s) {
		p.pos++
		return true
	}
	return false
}

func (p *rubyParser) expectOp(s string) {
	if !p.acceptOp(s) {
		t := p.peek()
		p.unsupported(t, describe(t))
	}
}

func (p *rubyParser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tkIdent && t.s == w
}

func (p *rubyParser) acceptWord(w string) bool {
	if p.isWord(w) {
		p.pos++
		return true
	}
	return false
}

func (p *rubyParser) expectWord(w string) {
	if !p.acceptWord(w) {
		t := p.peek()
		p.unsupported(t, describe(t))
	}
}

func (p *rubyParser) skipSeps() {
	for p.peek().kind == tkSep {
		p.pos++
	}
}

func (p *rubyParser) isLocal(name string) bool {
	for i := len(p.scopes) - 1; i >= 0; i-- {
		if p.scopes[i][name] {
			return true
		}
	}
	return false
}

func (p *rubyParser) enter() {
	p.depth++
	if p.depth > maxDepth {
		p.unsupported(p.peek(), "code nested too deeply")
	}
}

func (p *rubyParser) leave() { p.depth-- }

// endsBlock says the token ends a statement list.
func endsBlock(t token) bool {
	switch t.kind {
	case tkEOF, tkOutEnd:
		return true
	case tkIdent:
		switch t.s {
		case "end", "else", "elsif", "rescue", "ensure", "when":
			return true
		}
	case tkOp:
		return t.s == "}" || t.s == ")"
	}
	return false
}

func (p *rubyParser) stmts() []node {
	p.enter()
	defer p.leave()
	var out []node
	for {
		p.skipSeps()
		t := p.peek()
		if endsBlock(t) {
			return out
		}
		out = append(out, p.stmt())
		t = p.peek()
		prev := p.toks[p.pos-1]
		switch {
		case t.kind == tkSep, endsBlock(t), t.kind == tkText, t.kind == tkOutBegin:
		case prev.kind == tkText || prev.kind == tkOutEnd:
		default:
			p.unsupported(t, describe(t))
		}
	}
}

func (p *rubyParser) stmt() node {
	t := p.peek()
	var n node
	switch {
	case t.kind == tkText:
		p.pos++
		return nText{t.s}
	case t.kind == tkOutBegin:
		p.pos++
		body := p.stmts()
		if e := p.next(); e.kind != tkOutEnd {
			p.unsupported(e, describe(e))
		}
		return nOut{body}
	case t.kind == tkIdent && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tkOp &&
		(p.toks[p.pos+1].s == "=" || p.toks[p.pos+1].s == "||=") && !rubyKeywords[t.s]:
		p.pos += 2
		or := p.toks[p.pos-1].s == "||="
		if or && !p.isLocal(t.s) {
			p.scopes[len(p.scopes)-1][t.s] = true
		}
		val := p.exprStmt()
		p.scopes[len(p.scopes)-1][t.s] = true
		n = nAssign{name: t.s, val: val, or: or}
	default:
		n = p.exprStmt()
	}
	for {
		switch {
		case p.acceptWord("if"):
			n = nIf{cond: p.expr(), then: []node{n}}
		case p.acceptWord("unless"):
			n = nIf{cond: nNot{p.expr()}, then: []node{n}}
		case p.acceptWord("rescue"):
			n = nBegin{body: []node{n}, rescues: []rescueClause{{body: []node{p.expr()}}}}
		default:
			return n
		}
	}
}

// exprStmt is an expression where a statement may stand: `not`, `and`
// and `or` are unsupported, so it is just an expression.
func (p *rubyParser) exprStmt() node {
	n := p.expr()
	if t := p.peek(); t.kind == tkIdent && (t.s == "and" || t.s == "or") {
		p.unsupported(t, t.s)
	}
	return n
}

func (p *rubyParser) expr() node {
	p.enter()
	defer p.leave()
	return p.ternary()
}

func (p *rubyParser) ternary() node {
	c := p.rangeExpr()
	if !p.isOp("?") {
		return c
	}
	p.pos++
	p.enter()
	defer p.leave()
	a := p.ternary()
	p.expectOp(":")
	b := p.ternary()
	return nIf{cond: c, then: []node{a}, els: []node{b}}
}

func (p *rubyParser) rangeExpr() node {
	lo := p.orExpr()
	if p.isOp("..") || p.isOp("...") {
		excl := p.next().s == "..."
		if p.isOp("]") || p.isOp(")") {
			return nRange{lo: lo, exclusive: excl} // endless
		}
		return nRange{lo: lo, hi: p.orExpr(), exclusive: excl}
	}
	return lo
}

func (p *rubyParser) orExpr() node {
	l := p.andExpr()
	for p.acceptOp("||") {
		l = nOr{l, p.andExpr()}
	}
	return l
}

func (p *rubyParser) andExpr() node {
	l := p.notExpr()
	for p.acceptOp("&&") {
		l = nAnd{l, p.notExpr()}
	}
	return l
}

func (p *rubyParser) notExpr() node {
	if p.acceptOp("!") || p.acceptWord("not") {
		p.enter()
		defer p.leave()
		return nNot{p.notExpr()}
	}
	return p.eqExpr()
}

func (p *rubyParser) eqExpr() node {
	l := p.cmpExpr()
	t := p.peek()
	if t.kind == tkOp && (t.s == "==" || t.s == "!=" || t.s == "=~" || t.s == "!~") {
		p.pos++
		r := p.cmpExpr()
		return nBin{op: t.s, l: l, r: r, line: t.line}
	}
	return l
}

func (p *rubyParser) cmpExpr() node {
	l := p.addExpr()
	t := p.peek()
	if t.kind == tkOp && (t.s == "<" || t.s == ">" || t.s == "<=" || t.s == ">=") {
		p.pos++
		return nBin{op: t.s, l: l, r: p.addExpr(), line: t.line}
	}
	return l
}

func (p *rubyParser) addExpr() node {
	l := p.mulExpr()
	for {
		t := p.peek()
		if t.kind != tkOp || t.s != "+" && t.s != "-" {
			return l
		}
		p.pos++
		l = nBin{op: t.s, l: l, r: p.mulExpr(), line: t.line}
	}
}

func (p *rubyParser) mulExpr() node {
	l := p.unary()
	for {
		t := p.peek()
		if t.kind != tkOp || t.s != "*" && t.s != "%" {
			return l
		}
		p.pos++
		l = nBin{op: t.s, l: l, r: p.unary(), line: t.line}
	}
}

func (p *rubyParser) unary() node {
	t := p.peek()
	if t.kind == tkOp && t.s == "-" && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tkInt && !p.toks[p.pos+1].spaced {
		p.pos++
		n := p.postfix(p.intLit(p.next(), "-"))
		return n
	}
	if t.kind == tkOp && t.s == "!" {
		p.pos++
		p.enter()
		defer p.leave()
		return nNot{p.unary()}
	}
	return p.postfix(p.primary())
}

func (p *rubyParser) intLit(t token, sign string) node {
	i, err := strconv.ParseInt(sign+t.s, 10, 64)
	if err != nil {
		p.unsupported(t, "the number "+sign+t.s)
	}
	return nLit{i}
}

// rbMethods are the methods the evaluator implements, on whichever
// receivers have them: the names of its method tables (methods.go).
var rbMethods map[string]bool

// rbConstants are the constants the evaluator knows.
var rbConstants = map[string]bool{
	"ENV": true, "File": true, "Dir": true, "URI": true, "Dotenv": true, "RUBY_ENGINE": true, "Time": true, "JSON": true,
}

// rbLibraries are what `require` accepts as a no-op: Ruby's standard
// library and the gems Kamal itself loads (dotenv, active_support), whose
// few methods the evaluator implements or whose use it refuses.
var rbLibraries = map[string]bool{
	"uri": true, "json": true, "yaml": true, "erb": true, "dotenv": true,
	"socket": true, "open3": true, "shellwords": true, "pathname": true, "fileutils": true,
	"securerandom": true, "base64": true, "digest": true, "net/http": true, "time": true,
	"date": true, "set": true, "logger": true, "tmpdir": true, "etc": true, "English": true,
}

// rbFunctions are the receiverless methods (Kernel's) the evaluator knows.
var rbFunctions = map[string]bool{
	"require": true, "Integer": true, "__dir__": true, "__FILE__": true, "raise": true,
}

func (p *rubyParser) primary() node {
	t := p.next()
	switch t.kind {
	case tkInt:
		return p.intLit(t, "")
	case tkStr:
		return p.stringLit(t)
	case tkRegexp:
		return p.regexpLit(t)
	case tkConst:
		if t.s == "Integer" && p.isOp("(") && !p.peek().spaced {
			call := &nCall{name: t.s, line: t.line, tag: t.tag}
			p.callArgs(call, false)
			return *call
		}
		return p.constant(t)
	case tkIdent:
		return p.ident(t)
	case tkOp:
		switch t.s {
		case "(":
			body := p.stmts()
			p.expectOp(")")
			if len(body) == 1 {
				return body[0]
			}
			return nBegin{body: body}
		case "[":
			var elems []node
			for {
				p.skipSeps()
				if p.acceptOp("]") {
					return nArray{elems}
				}
				elems = append(elems, p.expr())
				p.skipSeps()
				if !p.acceptOp(",") {
					p.skipSeps()
					p.expectOp("]")
					return nArray{elems}
				}
			}
		case "{":
			p.unsupported(t, "a hash literal")
		case "::":
			c := p.next()
			if c.kind == tkConst {
				return p.constant(c)
			}
		}
	case tkIVar:
		p.unsupported(t, "the variable "+t.s)
	}
	p.unsupported(t, describe(t))
	return nil
}

func (p *rubyParser) constant(t token) node {
	name := t.s
	for p.isOp("::") && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tkConst {
		p.pos++
		name += "::" + p.next().s
	}
	if !rbConstants[name] {
		p.unsupported(t, name)
	}
	return nConst{name}
}

func (p *rubyParser) ident(t token) node {
	switch t.s {
	case "nil":
		return nLit{nil}
	case "true":
		return nLit{true}
	case "false":
		return nLit{false}
	case "if", "unless":
		cond := p.expr()
		p.acceptWord("then")
		then := p.stmts()
		n := nIf{cond: cond, then: then}
		if t.s == "unless" {
			n.cond = nNot{cond}
		}
		top := &n
		cur := top
		for t.s == "if" && p.isWord("elsif") {
			p.pos++
			c := p.expr()
			p.acceptWord("then")
			inner := nIf{cond: c, then: p.stmts()}
			cur.els = []node{&inner}
			cur = &inner
		}
		if p.acceptWord("else") {
			cur.els = p.stmts()
		}
		p.expectWord("end")
		return derefIf(top)
	case "begin":
		b := nBegin{body: p.stmts()}
		for p.acceptWord("rescue") {
			var rc rescueClause
			for p.peek().kind == tkConst {
				c := p.next()
				name := c.s
				for p.acceptOp("::") {
					name += "::" + p.next().s
				}
				rc.classes = append(rc.classes, name)
				if !p.acceptOp(",") {
					break
				}
			}
			if p.acceptOp("=>") {
				v := p.next()
				if v.kind != tkIdent {
					p.unsupported(v, describe(v))
				}
				rc.bind = v.s
				p.scopes[len(p.scopes)-1][v.s] = true
			}
			p.acceptWord("then")
			rc.body = p.stmts()
			b.rescues = append(b.rescues, rc)
		}
		if p.isWord("else") {
			p.unsupported(p.peek(), "begin/else")
		}
		if p.acceptWord("ensure") {
			b.ensure = p.stmts()
		}
		p.expectWord("end")
		return b
	}
	if rubyKeywords[t.s] {
		p.unsupported(t, t.s)
	}
	if p.isLocal(t.s) && !p.isOp("(") {
		return nLocal{t.s}
	}
	if !rbFunctions[t.s] {
		p.unsupported(t, t.s)
	}
	call := &nCall{name: t.s, line: t.line, tag: t.tag}
	p.callArgs(call, true)
	if t.s == "require" {
		if len(call.args) != 1 {
			p.unsupported(t, "require without one argument")
		}
		lib, ok := call.args[0].(nLit)
		if name, isStr := lib.v.(string); !ok || !isStr || !rbLibraries[name] && !strings.HasPrefix(name, "active_support") {
			p.unsupported(t, "require of a library other than Ruby's standard library")
		}
	}
	return *call
}

// derefIf turns the *nIf chain built for elsif into values.
func derefIf(n *nIf) node {
	out := nIf{cond: n.cond, then: n.then}
	if len(n.els) == 1 {
		if inner, ok := n.els[0].(*nIf); ok {
			out.els = []node{derefIf(inner)}
			return out
		}
	}
	out.els = n.els
	return out
}

// callArgs parses "(args)", or with command true a Ruby command call's
// unparenthesised arguments (`require "uri"`), then a block.
func (p *rubyParser) callArgs(call *nCall, command bool) {
	t := p.peek()
	switch {
	case t.kind == tkOp && t.s == "(" && !t.spaced:
		p.pos++
		for {
			p.skipSeps()
			if p.acceptOp(")") {
				break
			}
			if p.isOp("&") {
				call.block = p.symbolBlock()
				p.skipSeps()
				p.expectOp(")")
				return
			}
			call.args = append(call.args, p.arg())
			p.skipSeps()
			if !p.acceptOp(",") {
				p.skipSeps()
				p.expectOp(")")
				break
			}
		}
	case command && t.spaced && startsOperand(t):
		for {
			call.args = append(call.args, p.arg())
			if !p.acceptOp(",") {
				break
			}
		}
	}
	call.block = p.block()
}

// symbolBlock parses a block-pass of a symbol, &:name, into the block
// { |x| x.name }.
func (p *rubyParser) symbolBlock() *nBlock {
	amp := p.next()
	if !p.acceptOp(":") {
		p.unsupported(amp, "& argument")
	}
	m := p.next()
	if m.kind != tkIdent || !rbMethods[m.s] {
		p.unsupported(m, "&:"+m.s)
	}
	const param = "\x00it" // no Ruby name can clash with it
	return &nBlock{params: []string{param}, body: []node{nCall{recv: nLocal{param}, name: m.s, line: m.line, tag: m.tag}}}
}

func (p *rubyParser) arg() node {
	t := p.peek()
	if t.kind == tkOp && (t.s == "&" || t.s == "*" || t.s == "**") {
		p.unsupported(t, t.s+" argument")
	}
	if t.kind == tkIdent && p.pos+1 < len(p.toks) && p.toks[p.pos+1].kind == tkOp && p.toks[p.pos+1].s == ":" {
		p.unsupported(t, "keyword argument "+t.s+":")
	}
	return p.expr()
}

// startsOperand says t can begin an argument of a command call.
func startsOperand(t token) bool {
	switch t.kind {
	case tkStr, tkInt, tkConst, tkRegexp:
		return true
	case tkIdent:
		return !rubyKeywords[t.s]
	case tkOp:
		return t.s == "[" || t.s == "::"
	}
	return false
}

func (p *rubyParser) block() *nBlock {
	var closer string
	switch {
	case p.isOp("{"):
		closer = "}"
	case p.isWord("do"):
		closer = "end"
	default:
		return nil
	}
	p.pos++
	b := &nBlock{}
	p.scopes = append(p.scopes, map[string]bool{})
	defer func() { p.scopes = p.scopes[:len(p.scopes)-1] }()
	p.skipSeps()
	if p.acceptOp("|") {
		for !p.acceptOp("|") {
			v := p.next()
			if v.kind != tkIdent {
				p.unsupported(v, "block parameter "+describe(v))
			}
			b.params = append(b.params, v.s)
			p.scopes[len(p.scopes)-1][v.s] = true
			p.acceptOp(",")
		}
	}
	b.body = p.stmts()
	if closer == "}" {
		p.expectOp("}")
	} else {
		p.expectWord("end")
	}
	return b
}

func (p *rubyParser) postfix(n node) node {
	for {
		t := p.peek()
		switch {
		case t.kind == tkOp && (t.s == "." || t.s == "&."):
			p.pos++
			m := p.next()
			name := m.s
			if m.kind == tkConst || m.kind == tkIdent && m.s == "class" {
				p.unsupported(m, "."+name)
			}
			if m.kind != tkIdent {
				p.unsupported(m, "."+describe(m))
			}
			if p.isOp("=") {
				p.unsupported(m, "assignment ."+name+"=")
			}
			if !rbMethods[name] {
				p.unsupported(m, "the method "+name)
			}
			call := &nCall{recv: n, name: name, safe: t.s == "&.", line: m.line, tag: m.tag}
			p.callArgs(call, true)
			n = *call
		case t.kind == tkOp && t.s == "[" && !t.spaced:
			p.pos++
			call := nCall{recv: n, name: "[]", line: t.line, tag: t.tag}
			for {
				p.skipSeps()
				call.args = append(call.args, p.expr())
				p.skipSeps()
				if !p.acceptOp(",") {
					break
				}
			}
			p.expectOp("]")
			if p.isOp("=") {
				p.unsupported(p.peek(), "assignment []=")
			}
			n = call
		case t.kind == tkOp && t.s == "::":
			p.unsupported(t, "::")
		default:
			return n
		}
	}
}

// stringLit turns a string token into a literal or an interpolation.
func (p *rubyParser) stringLit(t token) node {
	switch t.q {
	case qSingle:
		return nLit{unescapeSingle(t.s)}
	case qWords:
		var elems []node
		for _, w := range asciiFields(t.s) {
			elems = append(elems, nLit{w})
		}
		return nArray{elems}
	}
	parts := p.interpolate(t)
	if t.q == qCommand {
		return nCmd{parts: parts, line: t.line}
	}
	if len(parts) == 1 {
		if l, ok := parts[0].(nLit); ok {
			return l
		}
	}
	return nStr{parts}
}

// interpolate splits a double-quoted body into literal text (escapes
// applied) and parsed #{...} code.
func (p *rubyParser) interpolate(t token) []node {
	var parts []node
	raw := t.s
	line := t.line
	lit := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\':
			i++
		case raw[i] == '#' && i+1 < len(raw) && raw[i+1] == '{':
			parts = append(parts, nLit{unescapeDouble(raw[lit:i])})
			end := interpolationEnd(raw, i+2)
			if end < 0 {
				p.unsupported(t, "unterminated #{")
			}
			code := raw[i+2 : end-1]
			codeLine := line + strings.Count(raw[:i], "\n")
			toks, lerr := lexRuby(code, codeLine, t.tag, nil)
			if lerr != nil {
				p.unsupported(t, lerr.what)
			}
			sub := &rubyParser{toks: toks, scopes: p.scopes, depth: p.depth}
			p.enter()
			body := sub.stmts()
			p.leave()
			if e := sub.peek(); e.kind != tkEOF {
				p.unsupported(e, describe(e))
			}
			parts = append(parts, nBegin{body: body})
			i = end - 1
			lit = end
		case raw[i] == '#' && i+1 < len(raw) && (raw[i+1] == '@' || raw[i+1] == '$'):
			p.unsupported(t, "interpolation "+raw[i:i+2])
		}
	}
	parts = append(parts, nLit{unescapeDouble(raw[lit:])})
	return parts
}

func unescapeSingle(raw string) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) && (raw[i+1] == '\\' || raw[i+1] == '\'') {
			i++
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// unescapeDouble applies Ruby's double-quoted string escapes.
func unescapeDouble(raw string) string {
	if !strings.Contains(raw, "\\") {
		return raw
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
	return b.String()
}

// regexpLit translates a Ruby regexp to Go's RE2. Ruby's ^ and $ match at
// every line, so (?m) is always on; Ruby's /m is Go's (?s). A regexp RE2
// cannot express (look-around, backreferences) is unsupported.
func (p *rubyParser) regexpLit(t token) node {
	if strings.Contains(t.s, "#{") {
		p.unsupported(t, "interpolation in a regexp")
	}
	flags := "m"
	for _, f := range t.q {
		switch f {
		case 'i':
			flags += "i"
		case 'm':
			flags += "s"
		default:
			p.unsupported(t, "regexp flag "+string(f))
		}
	}
	src := t.s
	if strings.Contains(src, `\h`) || strings.Contains(src, `\Z`) || strings.Contains(src, `\G`) {
		p.unsupported(t, "/"+t.s+"/")
	}
	src = strings.ReplaceAll(src, `\/`, "/")
	re, err := regexp.Compile("(?" + flags + ")" + src)
	if err != nil {
		p.unsupported(t, "/"+t.s+"/")
	}
	return nLit{&rbRegexp{re: re, src: t.s}}
}

package ruby

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// This file evaluates the tree of parse.go with Ruby's semantics for
// the values and methods real deploy.yml files use:
//
//	values     nil true false, strings, integers, arrays, regexps, the
//	           MatchData of String#match, the URI of URI.parse
//	operators  || && ! ?: == != =~ !~ < > <= >= + - * and ranges in []
//	statements a; b  x = e  x ||= e  if/elsif/else/unless/end (also as
//	           modifiers)  begin/rescue [Class] [=> e]/ensure/end
//	           e rescue e  blocks { |x| } and do |x| end
//	ENV        ENV["X"] ENV.fetch("X") ENV.fetch("X", d) ENV.fetch("X") { }
//	           ENV.key?
//	File       read exist? file? directory? expand_path join basename
//	           dirname extname readlines
//	Dir        pwd getwd home;  __dir__ ("." as in ERB#result), __FILE__
//	commands   `cmd` and %x() with #{} interpolation, via /bin/sh
//	Dotenv     Dotenv.load(files...) as dotenv 3 loads them into ENV
//	URI        URI.parse(s): host port scheme user password path query
//	require    of the standard library, dotenv and active_support: no-op
//
// and the String, Array and Integer methods listed in rbMethods. A method
// that exists for some values but is not implemented for the receiver at
// hand is unsupported at run time (so Ruby renders the file), except on
// nil, where Ruby's NoMethodError is certain.

// rv is a Ruby value: nil, bool, string, int64, []rv, *rbRegexp, *rbMatch,
// *rbURI, rbModule or rbHash.
type rv interface{}

type rbRegexp struct {
	re  *regexp.Regexp
	src string
}

type rbMatch struct {
	groups []string
	set    []bool
	names  []string
}

type rbURI struct {
	scheme, userinfo, host, path, query string
	port                                int64
	hasPort                             bool
	raw                                 string
}

type rbModule struct{ name string }

// rbHash is a Hash with string keys, in insertion order (what JSON.parse
// and Dotenv.load return).
type rbHash struct {
	keys []string
	vals map[string]rv
}

func newHash() *rbHash { return &rbHash{vals: map[string]rv{}} }

func (h *rbHash) set(k string, v rv) {
	if _, ok := h.vals[k]; !ok {
		h.keys = append(h.keys, k)
	}
	h.vals[k] = v
}

// rbError is a Ruby exception: it can be rescued, and becomes Kamal's
// error line when it is not.
type rbError struct{ class, msg string }

func (e *rbError) Error() string { return e.class + ": " + e.msg }

// rbAncestors says which exception classes a rescue of a class catches.
var rbAncestors = map[string][]string{
	kamalerr.ClassKey:          {kamalerr.ClassKey, kamalerr.ClassIndex, "StandardError", "Exception"},
	kamalerr.ClassNoMethod:     {kamalerr.ClassNoMethod, "NameError", "StandardError", "Exception"},
	kamalerr.ClassENOENT:       {kamalerr.ClassENOENT, kamalerr.ClassSystemCall, "StandardError", "Exception"},
	kamalerr.ClassEISDIR:       {kamalerr.ClassEISDIR, kamalerr.ClassSystemCall, "StandardError", "Exception"},
	kamalerr.ClassEACCES:       {kamalerr.ClassEACCES, kamalerr.ClassSystemCall, "StandardError", "Exception"},
	kamalerr.ClassType:         {kamalerr.ClassType, "StandardError", "Exception"},
	kamalerr.ClassArgument:     {kamalerr.ClassArgument, "StandardError", "Exception"},
	kamalerr.ClassRuntime:      {kamalerr.ClassRuntime, "StandardError", "Exception"},
	kamalerr.ClassURIInvalid:   {kamalerr.ClassURIInvalid, "URI::Error", "StandardError", "Exception"},
	kamalerr.ClassDotenvFormat: {kamalerr.ClassDotenvFormat, "SyntaxError", "ScriptError", "Exception"},
	"LoadError":                {"LoadError", "ScriptError", "Exception"},
	kamalerr.ClassIndex:        {kamalerr.ClassIndex, "StandardError", "Exception"},
	kamalerr.ClassZeroDivision: {kamalerr.ClassZeroDivision, "StandardError", "Exception"},
	kamalerr.ClassIO:           {kamalerr.ClassIO, "StandardError", "Exception"},
}

func (e *rbError) isA(class string) bool {
	for _, a := range rbAncestors[e.class] {
		if a == class {
			return true
		}
	}
	return e.class == class
}

// rubyEval runs one parsed template; out is what it rendered.
type rubyEval struct {
	cx     *Context
	out    strings.Builder
	scopes []map[string]rv
	line   int
	tag    string
	steps  int
}

// Bounds on what the evaluator does before it hands the file to Ruby (or
// reports it): no real configuration comes near them, and no input can
// make the evaluator slow or hungry.
const (
	maxSteps     = 1_000_000
	maxStringLen = 16 << 20
)

func (ev *rubyEval) checkLen(s string) error {
	if len(s) > maxStringLen || ev.out.Len() > maxStringLen {
		return ev.unsupported(0, "a text of more than 16 MiB")
	}
	return nil
}

func (ev *rubyEval) run(body []node) (rv, error) {
	var last rv
	for _, n := range body {
		v, err := ev.eval(n)
		if err != nil {
			return nil, err
		}
		last = v
	}
	return last, nil
}

func (ev *rubyEval) unsupported(line int, what string) error {
	return &rbUnsupported{line: line, what: what}
}

func noMethod(name string, recv rv) *rbError {
	return &rbError{kamalerr.ClassNoMethod, fmt.Sprintf("undefined method '%s' for %s", name, rbDescribe(recv))}
}

// rbDescribe is how Ruby 3.4 names a receiver in NoMethodError.
func rbDescribe(v rv) string {
	switch v.(type) {
	case nil:
		return "nil"
	case bool:
		return fmt.Sprint(v)
	}
	return "an instance of " + rbClass(v)
}

func rbClass(v rv) string {
	switch v := v.(type) {
	case nil:
		return "NilClass"
	case bool:
		if v {
			return "TrueClass"
		}
		return "FalseClass"
	case string:
		return "String"
	case int64:
		return "Integer"
	case []rv:
		return "Array"
	case *rbRegexp:
		return "Regexp"
	case *rbMatch:
		return "MatchData"
	case *rbURI:
		return "URI::Generic"
	case *rbTime:
		return "Time"
	case rbModule:
		return "Module"
	}
	return "Hash"
}

func (ev *rubyEval) lookupLocal(name string) (rv, bool) {
	for i := len(ev.scopes) - 1; i >= 0; i-- {
		if v, ok := ev.scopes[i][name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (ev *rubyEval) setLocal(name string, v rv) {
	for i := len(ev.scopes) - 1; i >= 0; i-- {
		if _, ok := ev.scopes[i][name]; ok {
			ev.scopes[i][name] = v
			return
		}
	}
	ev.scopes[len(ev.scopes)-1][name] = v
}

func (ev *rubyEval) eval(n node) (rv, error) {
	ev.steps++
	if ev.steps > maxSteps {
		return nil, ev.unsupported(0, "code that runs for more than a million steps")
	}
	v, err := ev.eval1(n)
	if s, ok := v.(string); ok && err == nil {
		err = ev.checkLen(s)
	}
	return v, err
}

func (ev *rubyEval) eval1(n node) (rv, error) {
	switch n := n.(type) {
	case nText:
		ev.out.WriteString(n.s)
		return nil, nil
	case nOut:
		v, err := ev.run(n.body)
		if err != nil {
			return nil, err
		}
		s, err := ev.toS(v)
		if err != nil {
			return nil, err
		}
		ev.out.WriteString(s)
		return nil, nil
	case nLit:
		return n.v, nil
	case nStr:
		return ev.joinParts(n.parts)
	case nCmd:
		cmd, err := ev.joinParts(n.parts)
		if err != nil {
			return nil, err
		}
		return ev.cx.command(cmd.(string))
	case nArray:
		out := make([]rv, 0, len(n.elems))
		for _, e := range n.elems {
			v, err := ev.eval(e)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case nLocal:
		v, _ := ev.lookupLocal(n.name)
		return v, nil
	case nAssign:
		if n.or {
			if cur, _ := ev.lookupLocal(n.name); Truthy(cur) {
				return cur, nil
			}
		}
		v, err := ev.eval(n.val)
		if err != nil {
			return nil, err
		}
		ev.setLocal(n.name, v)
		return v, nil
	case nIf:
		c, err := ev.eval(n.cond)
		if err != nil {
			return nil, err
		}
		if Truthy(c) {
			return ev.run(n.then)
		}
		return ev.run(n.els)
	case nAnd:
		l, err := ev.eval(n.l)
		if err != nil || !Truthy(l) {
			return l, err
		}
		return ev.eval(n.r)
	case nOr:
		l, err := ev.eval(n.l)
		if err != nil || Truthy(l) {
			return l, err
		}
		return ev.eval(n.r)
	case nNot:
		v, err := ev.eval(n.x)
		return !Truthy(v), err
	case nBin:
		ev.line = n.line
		return ev.binary(n)
	case nConst:
		if n.name == "RUBY_ENGINE" {
			return "ruby", nil
		}
		return rbModule{n.name}, nil
	case nRange:
		return nil, ev.unsupported(0, "a range outside []")
	case nBegin:
		return ev.begin(n)
	case nCall:
		if n.line > 0 {
			ev.line, ev.tag = n.line, n.tag
		}
		return ev.call(n)
	}
	return nil, fmt.Errorf("erb: unknown node %T", n)
}

func (ev *rubyEval) begin(n nBegin) (rv, error) {
	v, err := ev.run(n.body)
	var re *rbError
	if err != nil && errors.As(err, &re) {
		for _, rc := range n.rescues {
			match := len(rc.classes) == 0 && re.isA("StandardError")
			for _, c := range rc.classes {
				match = match || re.isA(c)
			}
			if match {
				if rc.bind != "" {
					return nil, ev.unsupported(0, "rescue => "+rc.bind)
				}
				v, err = ev.run(rc.body)
				break
			}
		}
	}
	if len(n.ensure) > 0 {
		if _, eerr := ev.run(n.ensure); eerr != nil {
			return nil, eerr
		}
	}
	return v, err
}

func (ev *rubyEval) joinParts(parts []node) (rv, error) {
	var b strings.Builder
	for _, part := range parts {
		v, err := ev.eval(part)
		if err != nil {
			return nil, err
		}
		s, err := ev.toS(v)
		if err != nil {
			return nil, err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// toS is Ruby's to_s as ERB and interpolation call it.
func (ev *rubyEval) toS(v rv) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []rv:
		return inspect(v)
	case *rbURI:
		return v.raw, nil
	case *rbTime:
		return timeToS(v.t), nil
	case *rbRegexp:
		return "", ev.unsupported(0, "Regexp#to_s")
	case *rbMatch:
		return v.groups[0], nil
	case rbModule:
		return v.name, nil
	}
	return "", ev.unsupported(0, "to_s of a "+rbClass(v))
}

// inspect is Ruby's inspect for the values that have a simple one.
func inspect(v rv) (string, error) {
	switch v := v.(type) {
	case nil:
		return "nil", nil
	case string:
		return InspectString(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case bool:
		return strconv.FormatBool(v), nil
	case []rv:
		parts := make([]string, len(v))
		for i, e := range v {
			s, err := inspect(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", &rbUnsupported{what: "inspect of a " + rbClass(v)}
}

func rbEqual(a, b rv) bool {
	switch a := a.(type) {
	case []rv:
		bb, ok := b.([]rv)
		if !ok || len(a) != len(bb) {
			return false
		}
		for i := range a {
			if !rbEqual(a[i], bb[i]) {
				return false
			}
		}
		return true
	case *rbURI:
		bu, ok := b.(*rbURI)
		return ok && a.raw == bu.raw
	case *rbHash:
		bh, ok := b.(*rbHash)
		if !ok || len(a.keys) != len(bh.keys) {
			return false
		}
		for k, v := range a.vals {
			if w, ok := bh.vals[k]; !ok || !rbEqual(v, w) {
				return false
			}
		}
		return true
	case *rbRegexp, *rbMatch:
		return a == b
	}
	return a == b
}

func (ev *rubyEval) binary(n nBin) (rv, error) {
	l, err := ev.eval(n.l)
	if err != nil {
		return nil, err
	}
	r, err := ev.eval(n.r)
	if err != nil {
		return nil, err
	}
	switch n.op {
	case "==":
		return rbEqual(l, r), nil
	case "!=":
		return !rbEqual(l, r), nil
	case "=~", "!~":
		s, sok := l.(string)
		re, rok := r.(*rbRegexp)
		if !sok || !rok {
			if l == nil && rok {
				return n.op == "!~", nil
			}
			return nil, ev.unsupported(n.line, n.op+" of a "+rbClass(l)+" and a "+rbClass(r))
		}
		loc := re.re.FindStringIndex(s)
		if n.op == "!~" {
			return loc == nil, nil
		}
		if loc == nil {
			return nil, nil
		}
		return int64(utf8.RuneCountInString(s[:loc[0]])), nil
	}
	switch l := l.(type) {
	case int64:
		ri, ok := r.(int64)
		if !ok {
			break
		}
		switch n.op {
		case "+":
			return l + ri, nil
		case "-":
			return l - ri, nil
		case "*":
			return l * ri, nil
		case "%":
			if ri == 0 {
				return nil, &rbError{kamalerr.ClassZeroDivision, "divided by 0"}
			}
			m := l % ri
			if m != 0 && (m < 0) != (ri < 0) {
				m += ri
			}
			return m, nil
		case "<":
			return l < ri, nil
		case ">":
			return l > ri, nil
		case "<=":
			return l <= ri, nil
		case ">=":
			return l >= ri, nil
		}
	case string:
		switch n.op {
		case "+":
			rs, ok := r.(string)
			if !ok {
				return nil, &rbError{kamalerr.ClassType, "no implicit conversion of " + rbImplicitName(r) + " into String"}
			}
			return l + rs, nil
		case "*":
			ri, ok := r.(int64)
			if ok && ri >= 0 && ri*int64(len(l)) <= 1<<20 {
				return strings.Repeat(l, int(ri)), nil
			}
		case "<", ">", "<=", ">=":
			rs, ok := r.(string)
			if !ok {
				break
			}
			c := strings.Compare(l, rs)
			return map[string]bool{"<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}[n.op], nil
		}
	case []rv:
		if ra, ok := r.([]rv); ok && n.op == "+" {
			return append(append([]rv{}, l...), ra...), nil
		}
	case nil:
		return nil, noMethod(n.op, nil)
	}
	return nil, ev.unsupported(n.line, n.op+" of a "+rbClass(l)+" and a "+rbClass(r))
}

func rbImplicitName(v rv) string {
	if v == nil {
		return "nil"
	}
	return rbClass(v)
}

func (ev *rubyEval) call(n nCall) (rv, error) {
	if n.recv == nil {
		return ev.function(n)
	}
	recv, err := ev.eval(n.recv)
	if err != nil {
		return nil, err
	}
	if n.safe && recv == nil {
		return nil, nil
	}
	var args []rv
	for _, a := range n.args {
		if r, ok := a.(nRange); ok && n.name == "[]" {
			v, err := ev.rangeArg(r)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
			continue
		}
		v, err := ev.eval(a)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	var v rv
	switch r := recv.(type) {
	case rbModule:
		v, err = callMethod(ev, moduleMethods[r.name], r.name, n, args, func(rv, nCall, []rv) (rv, error) {
			return nil, ev.unsupported(n.line, r.name+"."+n.name)
		})
	case nil:
		v, err = ev.nilCall(n, args)
	case string:
		v, err = callMethod(ev, stringMethods, r, n, args, ev.commonCall)
	case []rv:
		v, err = callMethod(ev, arrayMethods, r, n, args, ev.commonCall)
	case int64:
		v, err = callMethod(ev, intMethods, r, n, args, ev.commonCall)
	case *rbMatch:
		v, err = callMethod(ev, matchMethods, r, n, args, ev.commonCall)
	case *rbURI:
		v, err = callMethod(ev, uriMethods, r, n, args, ev.commonCall)
	case *rbHash:
		v, err = callMethod(ev, hashMethods, r, n, args, notImplemented)
	case *rbTime:
		v, err = callMethod(ev, timeMethods, r, n, args, notImplemented)
	default:
		v, err = ev.commonCall(r, n, args)
	}
	if err == errNoMethod {
		return nil, ev.unsupported(n.line, rbClass(recv)+"#"+n.name)
	}
	return v, err
}

// errNoMethod says a receiver type has no implementation of a method.
var errNoMethod = errors.New("no method")

// rbRange is a..b or a...b inside [].
type rbRange struct {
	lo, hi    int64
	exclusive bool
}

func (ev *rubyEval) rangeArg(r nRange) (rv, error) {
	lo, err := ev.eval(r.lo)
	if err != nil {
		return nil, err
	}
	var hi rv = int64(-1)
	if r.hi != nil {
		if hi, err = ev.eval(r.hi); err != nil {
			return nil, err
		}
	} else if r.exclusive {
		return nil, ev.unsupported(0, "an endless exclusive range")
	}
	li, ok1 := lo.(int64)
	hiI, ok2 := hi.(int64)
	if !ok1 || !ok2 {
		return nil, ev.unsupported(0, "a range of a "+rbClass(lo))
	}
	return rbRange{li, hiI, r.exclusive}, nil
}

// commonCall has the methods every object answers (objectMethods).
func (ev *rubyEval) commonCall(recv rv, n nCall, args []rv) (rv, error) {
	return callMethod(ev, objectMethods, recv, n, args, notImplemented)
}

func objNil(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) { return recv == nil, nil }

func objToS(ev *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) {
	s, err := ev.toS(recv)
	return s, err
}

func objInspect(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) { return inspect(recv) }

func objPresent(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) { return !blank(recv), nil }

func objBlank(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) { return blank(recv), nil }

func objPresence(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) {
	if blank(recv) {
		return nil, nil
	}
	return recv, nil
}

func objItself(_ *rubyEval, recv rv, _ nCall, _ []rv) (rv, error) { return recv, nil }

// blank is ActiveSupport's blank? (Kamal loads ActiveSupport).
func blank(v rv) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case string:
		return strings.TrimFunc(v, func(r rune) bool {
			return strings.ContainsRune(" \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
		}) == ""
	case []rv:
		return len(v) == 0
	case *rbHash:
		return len(v.keys) == 0
	}
	return false
}

// nilCall has nil's methods (nilMethods, then objectMethods); any other
// is Ruby's NoMethodError, as nil's methods are known.
func (ev *rubyEval) nilCall(n nCall, args []rv) (rv, error) {
	v, err := callMethod(ev, nilMethods, nil, n, args, ev.commonCall)
	if err == errNoMethod {
		return nil, noMethod(n.name, nil)
	}
	return v, err
}

func nilToI(*rubyEval, rv, nCall, []rv) (rv, error) { return int64(0), nil }

func nilToA(*rubyEval, rv, nCall, []rv) (rv, error) { return []rv{}, nil }

func (ev *rubyEval) function(n nCall) (rv, error) {
	var args []rv
	for _, a := range n.args {
		v, err := ev.eval(a)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	switch n.name {
	case "require":
		// Kamal has already loaded these libraries: Ruby answers false.
		return false, nil
	case "__dir__":
		return ".", nil
	case "__FILE__":
		return "(erb)", nil
	case "Integer":
		if len(args) != 1 {
			return nil, wantArgs(n, args, 1, 1)
		}
		switch a := args[0].(type) {
		case int64:
			return a, nil
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(a), 0, 64)
			if err != nil {
				return nil, &rbError{kamalerr.ClassArgument, "invalid value for Integer(): " + InspectString(a)}
			}
			return i, nil
		case nil:
			return nil, &rbError{kamalerr.ClassType, "can't convert nil into Integer"}
		}
	case "raise":
		if len(args) == 1 {
			if s, ok := args[0].(string); ok {
				return nil, &rbError{kamalerr.ClassRuntime, s}
			}
		}
	}
	return nil, ev.unsupported(n.line, n.name)
}

func argString(args []rv, i int) (string, bool) {
	if i >= len(args) {
		return "", false
	}
	s, ok := args[i].(string)
	return s, ok
}

func typeErr(v rv, into string) *rbError {
	return &rbError{kamalerr.ClassType, "no implicit conversion of " + rbImplicitName(v) + " into " + into}
}

func flattenRv(vs []rv) []rv {
	var out []rv
	for _, v := range vs {
		if a, ok := v.([]rv); ok {
			out = append(out, flattenRv(a)...)
		} else {
			out = append(out, v)
		}
	}
	return out
}

// rubyFileJoin is File.join: one separator between parts.
func rubyFileJoin(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			prev := parts[i-1]
			switch {
			case strings.HasSuffix(prev, "/") && strings.HasPrefix(p, "/"):
				p = strings.TrimLeft(p, "/")
			case !strings.HasSuffix(prev, "/") && !strings.HasPrefix(p, "/"):
				b.WriteByte('/')
			}
		}
		b.WriteString(p)
	}
	return b.String()
}

// expandPath is File.expand_path: ~ is HOME, relative paths are made
// absolute against base, "." and ".." are resolved.
func expandPath(p, base string, cx *Context) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		home, _ := cx.lookup("HOME")
		p = home + p[1:]
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Clean(p)
}

// fileError is the Errno exception Ruby raises for a failed file call.
func fileError(err error, fn, path string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		switch {
		case errors.Is(err, os.ErrNotExist):
			return &rbError{kamalerr.ClassENOENT, "No such file or directory @ " + fn + " - " + path}
		case errors.Is(err, os.ErrPermission):
			return &rbError{kamalerr.ClassEACCES, "Permission denied @ " + fn + " - " + path}
		}
		if strings.Contains(err.Error(), "is a directory") {
			return &rbError{kamalerr.ClassEISDIR, "Is a directory @ io_fread - " + path}
		}
	}
	var ke *kamalerr.Error // already worded as Ruby (runtime/inputfile)
	if errors.As(err, &ke) {
		return &rbError{ke.Class, ke.Message}
	}
	return &rbError{kamalerr.ClassIO, err.Error()}
}

func linesOf(s string) []rv {
	var out []rv
	for s != "" {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			out = append(out, s)
			break
		}
		out = append(out, s[:i+1])
		s = s[i+1:]
	}
	if out == nil {
		out = []rv{}
	}
	return out
}

func (ev *rubyEval) yield(b *nBlock, args []rv) (rv, error) {
	scope := map[string]rv{}
	for i, p := range b.params {
		if i < len(args) {
			scope[p] = args[i]
		} else {
			scope[p] = nil
		}
	}
	// One array argument spreads over several parameters, as in Ruby.
	if len(b.params) > 1 && len(args) == 1 {
		if a, ok := args[0].([]rv); ok {
			for i, p := range b.params {
				if i < len(a) {
					scope[p] = a[i]
				} else {
					scope[p] = nil
				}
			}
		}
	}
	ev.scopes = append(ev.scopes, scope)
	defer func() { ev.scopes = ev.scopes[:len(ev.scopes)-1] }()
	return ev.run(b.body)
}

func wantArgs(n nCall, args []rv, lo, hi int) error {
	if len(args) < lo || len(args) > hi {
		exp := strconv.Itoa(lo)
		if hi != lo {
			exp += ".." + strconv.Itoa(hi)
		}
		return &rbError{kamalerr.ClassArgument, fmt.Sprintf("wrong number of arguments (given %d, expected %s)", len(args), exp)}
	}
	return nil
}

// rubyStrip is String#strip: leading whitespace, trailing whitespace and
// NULs.
func rubyStrip(s string) string {
	return strings.TrimRight(strings.TrimLeft(s, " \t\n\v\f\r\x00"), " \t\n\v\f\r\x00")
}

// rubyToI is String#to_i: optional whitespace and sign, then digits and
// single underscores between them; anything else ends the number.
func rubyToI(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' && i > 0 && i+1 < len(s) && isDigit(s[i+1]) && isDigit(s[i-1]) {
			continue
		}
		if !isDigit(c) {
			break
		}
		if n > (1<<62)/10 {
			break // Ruby goes on into a Bignum; such values do not occur here
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n
}

func patternOf(v rv) (*regexp.Regexp, error) {
	switch p := v.(type) {
	case *rbRegexp:
		return p.re, nil
	case string:
		return regexp.MustCompile(regexp.QuoteMeta(p)), nil
	}
	return nil, &rbError{kamalerr.ClassType, "wrong argument type " + rbClass(v) + " (expected Regexp)"}
}

func newMatch(s string, m []int, re *regexp.Regexp) *rbMatch {
	md := &rbMatch{names: re.SubexpNames()}
	for g := 0; g < len(m)/2; g++ {
		if m[2*g] < 0 {
			md.groups = append(md.groups, "")
			md.set = append(md.set, false)
		} else {
			md.groups = append(md.groups, s[m[2*g]:m[2*g+1]])
			md.set = append(md.set, true)
		}
	}
	return md
}

// rubySub is sub/gsub with a replacement string: \0 \& the match, \1..\9
// groups, \k<name> named groups, \\ a backslash.
func rubySub(s string, re *regexp.Regexp, repl string, all bool) string {
	var b strings.Builder
	last := 0
	n := 1
	if all {
		n = -1
	}
	for _, m := range re.FindAllStringSubmatchIndex(s, n) {
		b.WriteString(s[last:m[0]])
		group := func(g int) {
			if g < len(m)/2 && m[2*g] >= 0 {
				b.WriteString(s[m[2*g]:m[2*g+1]])
			}
		}
		for i := 0; i < len(repl); i++ {
			c := repl[i]
			if c != '\\' || i+1 >= len(repl) {
				b.WriteByte(c)
				continue
			}
			i++
			switch e := repl[i]; {
			case e >= '0' && e <= '9':
				group(int(e - '0'))
			case e == '&':
				group(0)
			case e == '\\':
				b.WriteByte('\\')
			case e == 'k' && i+1 < len(repl) && repl[i+1] == '<':
				end := strings.IndexByte(repl[i:], '>')
				if end > 0 {
					if g := re.SubexpIndex(repl[i+2 : i+end]); g >= 0 {
						group(g)
					}
					i += end
				}
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		}
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func (ev *rubyEval) split(s string, n nCall, args []rv) (rv, error) {
	if len(args) > 1 {
		return nil, ev.unsupported(n.line, "String#split with a limit")
	}
	var parts []string
	var sep rv
	if len(args) == 1 {
		sep = args[0]
	}
	switch p := sep.(type) {
	case nil:
		parts = asciiFields(s)
	case string:
		if p == " " {
			parts = asciiFields(s)
		} else if p == "" {
			for _, r := range s {
				parts = append(parts, string(r))
			}
		} else {
			parts = strings.Split(s, p)
		}
	case *rbRegexp:
		if p.re.NumSubexp() > 0 {
			return nil, ev.unsupported(n.line, "String#split with a regexp with groups")
		}
		if p.re.MatchString("") {
			return nil, ev.unsupported(n.line, "String#split with a regexp matching empty text")
		}
		parts = p.re.Split(s, -1)
	default:
		return nil, &rbError{kamalerr.ClassType, "wrong argument type " + rbClass(sep) + " (expected Regexp)"}
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]rv, len(parts))
	for i, p := range parts {
		out[i] = p
	}
	return out, nil
}

// stringIndex is String#[]: an index, start and length, a range, a
// substring, a regexp and a group.
func (ev *rubyEval) stringIndex(s string, n nCall, args []rv) (rv, error) {
	if err := wantArgs(n, args, 1, 2); err != nil {
		return nil, err
	}
	rs := []rune(s)
	switch a := args[0].(type) {
	case int64:
		if len(args) == 1 {
			i := a
			if i < 0 {
				i += int64(len(rs))
			}
			if i < 0 || i >= int64(len(rs)) {
				return nil, nil
			}
			return string(rs[i]), nil
		}
		l, ok := args[1].(int64)
		if !ok {
			return nil, typeErr(args[1], "Integer")
		}
		return sliceRunes(rs, a, l)
	case rbRange:
		if len(args) != 1 {
			return nil, wantArgs(n, args, 1, 1)
		}
		start, l, ok := rangeSpan(a, int64(len(rs)))
		if !ok {
			return nil, nil
		}
		return sliceRunes(rs, start, l)
	case string:
		if len(args) != 1 {
			return nil, ev.unsupported(n.line, "String#[] with a string and a second argument")
		}
		if strings.Contains(s, a) {
			return a, nil
		}
		return nil, nil
	case *rbRegexp:
		m := a.re.FindStringSubmatchIndex(s)
		if m == nil {
			return nil, nil
		}
		md := newMatch(s, m, a.re)
		if len(args) == 1 {
			return md.groups[0], nil
		}
		return callMethod(ev, matchMethods, md, nCall{name: "[]", line: n.line}, args[1:], ev.commonCall)
	}
	return nil, typeErr(args[0], "Integer")
}

func sliceRunes(rs []rune, start, l int64) (rv, error) {
	n := int64(len(rs))
	if start < 0 {
		start += n
	}
	if start < 0 || start > n || l < 0 {
		return nil, nil
	}
	end := start + l
	if end > n {
		end = n
	}
	return string(rs[start:end]), nil
}

// rangeSpan turns a range into a start and a length over n elements.
func rangeSpan(r rbRange, n int64) (int64, int64, bool) {
	lo, hi := r.lo, r.hi
	if lo < 0 {
		lo += n
	}
	if hi < 0 {
		hi += n
	}
	if lo < 0 || lo > n {
		return 0, 0, false
	}
	if !r.exclusive {
		hi++
	}
	l := hi - lo
	if l < 0 {
		l = 0
	}
	return lo, l, true
}

func sliceArray(a []rv, start, l int64) rv {
	n := int64(len(a))
	if start < 0 {
		start += n
	}
	if start < 0 || start > n || l < 0 {
		return nil
	}
	end := start + l
	if end > n {
		end = n
	}
	return append([]rv{}, a[start:end]...)
}

func (ev *rubyEval) arrayOrder(a []rv, n nCall) (rv, error) {
	ints, strs := true, true
	for _, e := range a {
		_, isInt := e.(int64)
		_, isStr := e.(string)
		ints = ints && isInt
		strs = strs && isStr
	}
	if n.name == "sum" {
		if !ints {
			return nil, ev.unsupported(n.line, "Array#sum of these values")
		}
		var s int64
		for _, e := range a {
			s += e.(int64)
		}
		return s, nil
	}
	if !ints && !strs {
		return nil, ev.unsupported(n.line, "Array#"+n.name+" of these values")
	}
	sorted := append([]rv{}, a...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if ints {
			return sorted[i].(int64) < sorted[j].(int64)
		}
		return sorted[i].(string) < sorted[j].(string)
	})
	switch n.name {
	case "min":
		if len(sorted) == 0 {
			return nil, nil
		}
		return sorted[0], nil
	case "max":
		if len(sorted) == 0 {
			return nil, nil
		}
		return sorted[len(sorted)-1], nil
	}
	return sorted, nil
}

// uriPart is a URI component: nil when empty, as URI answers.
func uriPart(s string) rv {
	if s == "" {
		return nil
	}
	return s
}

// uriDefaultPorts are the schemes Ruby's URI knows, with their ports.
var uriDefaultPorts = map[string]int64{
	"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443, "ldap": 389, "ldaps": 636,
}

// parseURI is URI.parse for absolute URIs with an authority and for
// relative paths; the components are kept as written (not decoded), as
// Ruby keeps them.
func parseURI(s string) (rv, error) {
	u := &rbURI{raw: s}
	bad := &rbError{kamalerr.ClassURIInvalid, "bad URI(is not URI?): " + InspectString(s)}
	if strings.ContainsAny(s, " \t\n\"<>\\^`{|}") {
		return nil, bad
	}
	rest := s
	if i := strings.Index(rest, ":"); i > 0 && isScheme(rest[:i]) {
		u.scheme = rest[:i]
		rest = rest[i+1:]
	}
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.query = rest[i+1:]
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		rest = rest[2:]
		auth := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			auth, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if i := strings.LastIndexByte(auth, '@'); i >= 0 {
			u.userinfo, auth = auth[:i], auth[i+1:]
		}
		host := auth
		if i := strings.LastIndexByte(auth, ':'); i >= 0 && !strings.HasSuffix(auth, "]") {
			host = auth[:i]
			if p := auth[i+1:]; p != "" {
				port, err := strconv.ParseInt(p, 10, 64)
				if err != nil {
					return nil, bad
				}
				u.port, u.hasPort = port, true
			}
		}
		u.host = host
	} else if u.scheme != "" {
		return nil, &rbUnsupported{what: "URI.parse of an opaque URI"}
	}
	u.path = rest
	if !u.hasPort {
		if p, ok := uriDefaultPorts[strings.ToLower(u.scheme)]; ok {
			u.port, u.hasPort = p, true
		}
	}
	return u, nil
}

func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// rubyTr is String#tr: characters of from (a-z ranges, a leading ^
// negates) become the character at the same place in to, the last one of
// to when it is shorter; with an empty to they are deleted.
func rubyTr(s, from, to string) string {
	expand := func(set string) []rune {
		rs := []rune(set)
		var out []rune
		for i := 0; i < len(rs); i++ {
			if rs[i] == '\\' && i+1 < len(rs) {
				i++
				out = append(out, rs[i])
				continue
			}
			if i+2 < len(rs) && rs[i+1] == '-' && rs[i] <= rs[i+2] {
				for r := rs[i]; r <= rs[i+2]; r++ {
					out = append(out, r)
				}
				i += 2
				continue
			}
			out = append(out, rs[i])
		}
		return out
	}
	negate := len(from) > 1 && from[0] == '^'
	if negate {
		from = from[1:]
	}
	src, dst := expand(from), expand(to)
	var b strings.Builder
	for _, r := range s {
		idx := -1
		for i, f := range src {
			if f == r {
				idx = i
				break
			}
		}
		if negate {
			if idx >= 0 {
				b.WriteRune(r)
			} else if len(dst) > 0 {
				b.WriteRune(dst[len(dst)-1])
			}
			continue
		}
		switch {
		case idx < 0:
			b.WriteRune(r)
		case len(dst) == 0:
		case idx < len(dst):
			b.WriteRune(dst[idx])
		default:
			b.WriteRune(dst[len(dst)-1])
		}
	}
	return b.String()
}

// asciiFields is Ruby's awk-style split: runs of ASCII whitespace
// separate words (a no-break space does not).
func asciiFields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r >= '\t' && r <= '\r' })
}

func sliceIndex(a []rv, i int64) rv {
	if i < 0 {
		i += int64(len(a))
	}
	if i < 0 || i >= int64(len(a)) {
		return nil
	}
	return a[i]
}

// parseJSON is JSON.parse for documents without floats, objects keeping
// their key order as Ruby's Hash does. A float, or a text Go's parser
// refuses, goes to Ruby (whose messages are its own).
func parseJSON(src string, line int) (rv, error) {
	dec := json.NewDecoder(strings.NewReader(src))
	dec.UseNumber()
	bad := &rbUnsupported{line: line, what: "JSON.parse of this text"}
	var value func(depth int) (rv, error)
	value = func(depth int) (rv, error) {
		if depth > maxDepth {
			return nil, bad
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, bad
		}
		switch t := tok.(type) {
		case nil, bool, string:
			return t, nil
		case json.Number:
			i, err := t.Int64()
			if err != nil {
				return nil, &rbUnsupported{line: line, what: "JSON.parse of a non-integer number"}
			}
			return i, nil
		case json.Delim:
			switch t {
			case '[':
				out := []rv{}
				for dec.More() {
					v, err := value(depth + 1)
					if err != nil {
						return nil, err
					}
					out = append(out, v)
				}
				if _, err := dec.Token(); err != nil {
					return nil, bad
				}
				return out, nil
			case '{':
				h := newHash()
				for dec.More() {
					kt, err := dec.Token()
					k, ok := kt.(string)
					if err != nil || !ok {
						return nil, bad
					}
					v, err := value(depth + 1)
					if err != nil {
						return nil, err
					}
					h.set(k, v)
				}
				if _, err := dec.Token(); err != nil {
					return nil, bad
				}
				return h, nil
			}
		}
		return nil, bad
	}
	v, err := value(0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad
	}
	return v, nil
}

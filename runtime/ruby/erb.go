package ruby

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// This file renders a configuration file's ERB as Kamal does: every tag of
// the file (those inside YAML comments too) is Ruby code, run in order,
// with ERB's trim mode "-" (Kamal 2.12 passes trim_mode: "-"):
//
//	<%= code %>   inserts code's value (to_s)
//	<% code %>    runs code; control flow may span tags (<% if x %>..<% end %>)
//	<%# text %>   a comment
//	<%%  %%>      a literal "<%", and "%>" inside a tag
//	-%>           drops the newline after the tag
//	<%-           at the start of a line, drops the indentation before it
//
// The template is turned into one program (lex.go) and parsed as a
// whole (parse.go) before anything runs; the Go evaluator (eval.go)
// covers the Ruby real deploy.yml files use. For anything else the whole
// file is rendered by Ruby's own ERB when a ruby is on PATH (erb_ruby.go),
// in the same environment and directory; without Ruby it is an error
// naming the file, the line and the construct.

// Host is what a rendering may consult outside the evaluator: the
// environment, commands, files and the dotenv parser. The config loader
// implements it; tests and fuzz targets stub it. Render calls it from the
// calling goroutine only.
type Host interface {
	// Getenv is the ENV Ruby would see.
	Getenv(key string) (string, bool)
	// Run returns a command's stdout and exit status, with extra set in
	// its environment; err only when it cannot start (a failing command is
	// not an error in Ruby: its output is used).
	Run(command string, extra map[string]string) (stdout string, status int, err error)
	// ReadFile reads a file for File.read and Dotenv.load; path is already
	// resolved against the app directory.
	ReadFile(path string) ([]byte, error)
	// Dotenv parses a dotenv file's text with the gem's rules in its
	// non-overwrite mode: a key getenv has keeps that value; $(...) runs
	// through run. It returns the assignments in file order.
	Dotenv(name, src string, getenv func(string) (string, bool), run func(string) (string, int, error)) ([]KV, error)
}

// KV is one assignment of a dotenv file.
type KV struct{ Key, Value string }

// Context is one file's rendering: what it may consult and what it
// leaves behind for the caller. A Context is used by one goroutine.
type Context struct {
	Name string // file name for messages
	Dir  string // the app directory (Ruby's working directory)
	Host Host
	// Ruby renders the whole file with Ruby's ERB; nil, or ErrNoRuby from
	// it, when there is no Ruby.
	Ruby func(src string, extra map[string]string) (string, error)
	// Lenient turns a failed ENV.fetch into "" and records the KeyError in
	// FetchErr instead of stopping (used to find the generation first).
	Lenient  bool
	FetchErr error
	// Misses are the variables looked up but not set, in lookup order.
	Misses []string
	// Loaded are the variables Dotenv.load set (shared by the files of one
	// configuration, as Ruby's ENV is).
	Loaded map[string]string
}

func (cx *Context) lookup(key string) (string, bool) {
	if v, ok := cx.Host.Getenv(key); ok {
		return v, true
	}
	if v, ok := cx.Loaded[key]; ok {
		return v, true
	}
	cx.Misses = append(cx.Misses, key)
	return "", false
}

func (cx *Context) command(cmd string) (string, error) {
	if err := cx.checkProgram(cmd); err != nil {
		return "", err
	}
	out, _, err := cx.Host.Run(cmd, cx.Loaded)
	if kamalerr.ClassOf(err) == kamalerr.ClassInterrupt {
		return "", err // not Ruby's to rescue: the run was interrupted
	}
	if err != nil {
		return "", &rbError{kamalerr.ClassENOENT, err.Error()}
	}
	return out, nil
}

// checkProgram raises what Ruby's backticks raise for a command they run
// without a shell: Ruby execs a command directly when it has no shell
// metacharacters and does not start with a shell keyword, builtin or
// assignment, and then a missing program is Errno::ENOENT (a shell would
// just print "not found" and the output would be empty).
func (cx *Context) checkProgram(cmd string) error {
	if strings.ContainsAny(cmd, "*?{}[]<>()~&|\\$;'`\"\n#") {
		return nil
	}
	words := strings.Fields(cmd)
	if len(words) == 0 || shellWords[words[0]] || strings.Contains(words[0], "=") {
		return nil
	}
	prog := words[0]
	if strings.Contains(prog, "/") {
		fi, err := os.Stat(cx.path(prog))
		switch {
		case err != nil:
			return &rbError{kamalerr.ClassENOENT, "No such file or directory - " + prog}
		case fi.IsDir() || fi.Mode()&0o111 == 0:
			return &rbError{kamalerr.ClassEACCES, "Permission denied - " + prog}
		}
		return nil
	}
	if _, err := exec.LookPath(prog); err != nil {
		return &rbError{kamalerr.ClassENOENT, "No such file or directory - " + prog}
	}
	return nil
}

// shellWords are the words that make Ruby hand a command to /bin/sh: the
// shell's reserved words and special builtins.
var shellWords = map[string]bool{
	"case": true, "do": true, "done": true, "elif": true, "else": true, "esac": true, "fi": true,
	"for": true, "if": true, "in": true, "then": true, "until": true, "while": true, "!": true,
	".": true, ":": true, "break": true, "continue": true, "eval": true, "exec": true, "exit": true,
	"export": true, "readonly": true, "return": true, "set": true, "shift": true, "times": true,
	"trap": true, "unset": true,
}

func (cx *Context) read(p string) ([]byte, error) {
	return cx.Host.ReadFile(cx.path(p))
}

// path resolves p against the app directory, as Ruby's relative paths
// resolve against its working directory.
func (cx *Context) path(p string) string {
	if filepath.IsAbs(p) || cx.Dir == "" {
		return p
	}
	return filepath.Join(cx.Dir, p)
}

// dotenvLoad is dotenv 3's Dotenv.load: each existing file is parsed and
// its variables set where ENV has none; missing files are skipped. It
// returns the parsed variables.
func (cx *Context) dotenvLoad(files []string) (*rbHash, error) {
	if cx.Loaded == nil {
		cx.Loaded = map[string]string{}
	}
	parsed := newHash()
	for _, f := range files {
		data, err := cx.read(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fileError(err, "rb_sysopen", f)
		}
		lookup := func(k string) (string, bool) {
			if v, ok := cx.Host.Getenv(k); ok {
				return v, true
			}
			v, ok := cx.Loaded[k]
			return v, ok
		}
		run := func(c string) (string, int, error) { return cx.Host.Run(c, cx.Loaded) }
		entries, err := cx.Host.Dotenv(f, string(data), lookup, run)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			parsed.set(e.Key, e.Value)
			if _, ok := lookup(e.Key); !ok {
				cx.Loaded[e.Key] = e.Value
			}
		}
	}
	return parsed, nil
}

// Render renders src. Errors are *kamalerr.Error naming cx.Name and the
// line of the tag.
func Render(src string, cx *Context) (string, error) {
	toks, err := erbTokens(src, cx.Name, false)
	if err != nil {
		return "", err
	}
	prog, unsup := parseRuby(toks)
	if unsup != nil {
		if out, ok, err := cx.fallback(src, unsup); ok {
			return out, err
		}
		// Without Ruby, a tag on a YAML comment line the evaluator cannot
		// run only changes the comment: it renders as nothing.
		if toks, err = erbTokens(src, cx.Name, true); err != nil {
			return "", err
		}
		if prog, unsup = parseRuby(toks); unsup != nil {
			return "", cx.unsupportedError(unsup)
		}
	}
	ev := &rubyEval{cx: cx, scopes: []map[string]rv{{}}}
	if _, err := ev.run(prog); err != nil {
		var u *rbUnsupported
		if errors.As(err, &u) {
			if u.line == 0 {
				u.line = ev.line
			}
			if u.tag == "" {
				u.tag = ev.tag
			}
			if out, ok, ferr := cx.fallback(src, u); ok {
				return out, ferr
			}
			return "", cx.unsupportedError(u)
		}
		var re *rbError
		if errors.As(err, &re) {
			return "", newError(re.class, "%s", re.msg)
		}
		return "", err
	}
	return ev.out.String(), nil
}

// ErrNoRuby says no ruby is on PATH.
var ErrNoRuby = errors.New("no ruby on PATH")

// fallback renders src with Ruby when there is one; ok is false when not.
func (cx *Context) fallback(src string, u *rbUnsupported) (out string, ok bool, err error) {
	if cx.Ruby == nil {
		return "", false, nil
	}
	out, err = cx.Ruby(src, cx.Loaded)
	if errors.Is(err, ErrNoRuby) {
		return "", false, nil
	}
	cx.Misses = append(cx.Misses, envNamesIn(src, cx)...)
	var e *Error
	if err != nil && cx.Lenient && errors.As(err, &e) && e.Class == kamalerr.ClassKey {
		if cx.FetchErr == nil {
			cx.FetchErr = err
		}
		return "", true, nil
	}
	return out, true, err
}

var envNameRe = regexp.MustCompile(`ENV(?:\[|\.fetch\(\s*)\s*["']([A-Za-z_][A-Za-z0-9_]*)["']`)

// envNamesIn lists the unset variables src names literally: what Ruby
// looked up, as far as can be told from outside.
func envNamesIn(src string, cx *Context) []string {
	var out []string
	for _, m := range envNameRe.FindAllStringSubmatch(src, -1) {
		if _, ok := cx.Host.Getenv(m[1]); !ok {
			out = append(out, m[1])
		}
	}
	return out
}

func (cx *Context) unsupportedError(u *rbUnsupported) *Error {
	what := oneLine(u.what)
	tag := oneLine(u.tag)
	if tag != "" && tag != what && tag != "<% %>" && tag != "<%= %>" {
		what += " in " + tag
	}
	return newError(kamalerr.ClassConfiguration, "%s:%d: unsupported ERB: %s (install Ruby, a ruby on PATH, and the file is rendered by Ruby's ERB)", cx.Name, u.line, what)
}

// oneLine collapses whitespace; control characters (a NUL, an escape)
// would garble the one error line, so such text is Go-quoted.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		s = strconv.Quote(s)
	}
	return s
}

// erbTokens scans the template into the token stream of one program.
// With skipComments, an output tag on a YAML comment line whose code is
// outside the subset becomes empty text.
func erbTokens(src, name string, skipComments bool) ([]token, error) {
	var toks []token
	var text strings.Builder
	line := 1
	pos := 0
	lineStart := 0 // offset of the current line's start in src
	flush := func() {
		if text.Len() > 0 {
			toks = append(toks, token{kind: tkText, s: text.String(), line: line})
			text.Reset()
		}
	}
	for pos < len(src) {
		i := strings.Index(src[pos:], "<%")
		if i < 0 {
			text.WriteString(src[pos:])
			break
		}
		start := pos + i
		text.WriteString(src[pos:start])
		for j := pos; j < start; j++ {
			if src[j] == '\n' {
				line++
				lineStart = j + 1
			}
		}
		if strings.HasPrefix(src[start:], "<%%") {
			text.WriteString("<%")
			pos = start + 3
			continue
		}
		bodyStart := start + 2
		kind := byte(0)
		if bodyStart < len(src) {
			switch src[bodyStart] {
			case '=', '#':
				kind = src[bodyStart]
				bodyStart++
			case '-':
				bodyStart++
				if strings.Trim(src[lineStart:start], " \t") == "" {
					// drop the indentation just copied
					s := text.String()
					s = s[:len(s)-(start-lineStart)]
					text.Reset()
					text.WriteString(s)
				}
			}
		}
		body, end, trim, ok := scanTagBody(src, bodyStart)
		if !ok {
			return nil, newError(kamalerr.ClassConfiguration, "%s:%d: unterminated ERB tag", name, line)
		}
		tagLine := line
		inComment := strings.HasPrefix(strings.TrimLeft(src[lineStart:start], " \t"), "#")
		for j := start; j < end; j++ {
			if src[j] == '\n' {
				line++
				lineStart = j + 1
			}
		}
		pos = end
		if trim {
			if strings.HasPrefix(src[pos:], "\n") {
				pos++
			} else if strings.HasPrefix(src[pos:], "\r\n") {
				pos += 2
			}
			if pos > end {
				line++
				lineStart = pos
			}
		}
		if kind == '#' {
			continue
		}
		flush()
		tag := "<%" + string(kind)
		if kind == 0 {
			tag = "<%"
		}
		tag += " " + body + " %>"
		code, lerr := lexRuby(body, tagLine, tag, nil)
		if kind == '=' && inComment && lerr == nil {
			sub := append([]token{{kind: tkOutBegin, line: tagLine, tag: tag}}, code...)
			sub = append(sub, token{kind: tkOutEnd, line: tagLine, tag: tag})
			if _, u := parseRuby(sub); u != nil && (skipComments || rubyVersionOnly(u, code)) {
				continue
			}
		} else if kind == '=' && inComment && skipComments {
			continue
		}
		if lerr != nil {
			// Hand the lexer's complaint to the parser as an unknown token.
			code = append(code, token{kind: tkOp, s: lerr.what, line: lerr.line, tag: tag})
		}
		if kind == '=' {
			toks = append(toks, token{kind: tkOutBegin, line: tagLine, tag: tag})
			toks = append(toks, code...)
			toks = append(toks, token{kind: tkOutEnd, line: line, tag: tag})
		} else {
			toks = append(toks, code...)
			toks = append(toks, token{kind: tkSep, s: ";", line: line, tag: tag})
		}
	}
	flush()
	return toks, nil
}

// rubyConstants are Ruby's version constants: the evaluator does not
// know the Ruby Kamal runs on, but they have no effect but their value.
var rubyVersionConstants = map[string]bool{
	"RUBY_VERSION": true, "RUBY_ENGINE_VERSION": true, "RUBY_PATCHLEVEL": true,
	"RUBY_PLATFORM": true, "RUBY_RELEASE_DATE": true, "RUBY_DESCRIPTION": true,
}

// rubyVersionOnly says a tag the evaluator cannot parse fails only on a
// Ruby version constant and has nothing with an effect (a command, a file
// read, a method call): on a YAML comment line such a tag can only change
// the comment, so it renders as nothing without asking Ruby (the comment
// in the deploy.yml that kamal init writes).
func rubyVersionOnly(u *rbUnsupported, code []token) bool {
	if !rubyVersionConstants[u.what] {
		return false
	}
	for _, t := range code {
		switch {
		case t.kind == tkStr && t.q == qCommand,
			t.kind == tkConst && t.s != "ENV" && t.s != "RUBY_ENGINE" && !rubyVersionConstants[t.s],
			t.kind == tkIdent && !rubyKeywords[t.s] && t.s != "nil" && t.s != "true" && t.s != "false",
			t.kind == tkOp && t.s == ".",
			t.kind == tkStr && (strings.Contains(t.s, "`") || strings.Contains(t.s, "#{") && strings.ContainsAny(t.s, ".(%")):
			return false
		}
	}
	return true
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

// Truthy is Ruby's truthiness: everything but nil and false.
func Truthy(x any) bool { return x != nil && x != false }

// Chomp is String#chomp: it removes one trailing "\r\n", "\n" or "\r".
func Chomp(s string) string {
	switch {
	case strings.HasSuffix(s, "\r\n"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "\n"), strings.HasSuffix(s, "\r"):
		return s[:len(s)-1]
	}
	return s
}

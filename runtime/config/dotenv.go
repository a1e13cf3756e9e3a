package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// This file parses dotenv files with the rules of the dotenv gem (v3), as
// Kamal 2 reads .kamal/secrets* and Kamal 1 reads .env:
//
//	KEY=value  KEY = value  export KEY=value  KEY: value   # comment
//	KEY='literal $(not run) ${NOT}'   no escapes, no substitution
//	KEY="a \"quoted\" ${VAR}"         backslash escapes removed; "\n" stays
//	                                  a backslash and an n unless
//	                                  DOTENV_LINEBREAK_MODE=legacy
//	KEY=unquoted ${VAR} $(cmd)        up to "#" or the end of the line
//
// Keys are [A-Za-z0-9_.]+. Double-quoted values may span lines. Then, unless
// single-quoted, $(command) is replaced by the command's output (trailing
// newline chomped; \$(...) stays literal without the backslash), and after
// that $VAR and ${VAR} by the value of a key defined earlier in the same
// file, else the environment, else "" (\$VAR stays literal).
//
// Unlike the gem, which silently skips text it cannot match, a line that
// is not an assignment, a comment or blank is an error naming the line;
// the message never quotes the line, which may hold a secret.

// inlineSecretsCommand is what Kamal runs in-process rather than through
// the shell: a $(...) starting with "kamal secrets ".
var inlineSecretsCommand = regexp.MustCompile(`\A\s*kamal\s*secrets\s+`)

// dotenvOptions say how to parse one file.
type dotenvOptions struct {
	name string // file name for messages
	// getenv is the environment $VAR falls back to.
	getenv func(string) (string, bool)
	// run returns a $(...) command's stdout and exit status; err when it
	// cannot be run.
	run func(command string) (stdout string, status int, err error)
	// keepEnv is the gem's non-overwrite mode (Dotenv.load, Kamal 1): a key
	// already set in getenv keeps that value and its line is not evaluated.
	keepEnv bool
	// inline runs $(kamal secrets ...) in-process (Options.InlineSecrets);
	// nil runs it through the shell like any command.
	inline func(args []string) (string, error)
}

// dotenvEntry is one parsed assignment.
type dotenvEntry struct {
	key, value string
	line       int
}

// parseDotenv parses src and returns its assignments in file order (a key
// assigned twice appears twice; the later wins).
func parseDotenv(src string, o dotenvOptions) ([]dotenvEntry, error) {
	// The gem reads files with "rb:bom|utf-8": a UTF-8 byte order mark is
	// dropped.
	src = strings.TrimPrefix(src, "\uFEFF")
	src = strings.ReplaceAll(src, "\r\n", "\n")
	p := &dotenvParser{src: src, o: o, line: 1, hash: map[string]string{}}
	return p.parse()
}

type dotenvParser struct {
	src     string
	pos     int
	line    int
	o       dotenvOptions
	hash    map[string]string
	entries []dotenvEntry
}

func (p *dotenvParser) errorf(line int, format string, args ...any) error {
	return newError(kamalerr.ClassDotenvFormat, "%s:%d: %s", p.o.name, line, fmt.Sprintf(format, args...))
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' }

func isKeyByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// advance moves pos to to, counting newlines.
func (p *dotenvParser) advance(to int) {
	p.line += strings.Count(p.src[p.pos:to], "\n")
	p.pos = to
}

func (p *dotenvParser) parse() ([]dotenvEntry, error) {
	for {
		// Blank lines and leading whitespace.
		i := p.pos
		for i < len(p.src) && (isBlank(p.src[i]) || p.src[i] == '\n') {
			i++
		}
		p.advance(i)
		if p.pos >= len(p.src) {
			return p.entries, nil
		}
		if p.src[p.pos] == '#' {
			p.advance(p.lineEnd(p.pos))
			continue
		}
		if err := p.assignment(); err != nil {
			return nil, err
		}
	}
}

func (p *dotenvParser) lineEnd(from int) int {
	if j := strings.IndexByte(p.src[from:], '\n'); j >= 0 {
		return from + j
	}
	return len(p.src)
}

// restIsComment reports whether src[from:] up to the end of the line is
// blank or a comment.
func (p *dotenvParser) restIsComment(from int) bool {
	end := p.lineEnd(from)
	for i := from; i < end; i++ {
		if p.src[i] == '#' {
			return true
		}
		if !isBlank(p.src[i]) {
			return false
		}
	}
	return true
}

func (p *dotenvParser) assignment() error {
	line := p.line
	start := p.pos
	i := p.pos
	export := false
	if strings.HasPrefix(p.src[i:], "export") {
		j := i + len("export")
		k := j
		for k < len(p.src) && isBlank(p.src[k]) {
			k++
		}
		if k > j && k < len(p.src) && isKeyByte(p.src[k]) {
			export, i = true, k
		}
	}
	ks := i
	for i < len(p.src) && isKeyByte(p.src[i]) {
		i++
	}
	if i == ks {
		return p.errorf(line, "malformed line (expected KEY=value)")
	}
	key := p.src[ks:i]

	// Separator: optional blanks and "=", or ":" and at least one blank.
	j := i
	for j < len(p.src) && isBlank(p.src[j]) {
		j++
	}
	hasSep := false
	switch {
	case j < len(p.src) && p.src[j] == '=':
		hasSep, j = true, j+1
	case i < len(p.src) && p.src[i] == ':' && i+1 < len(p.src) && isBlank(p.src[i+1]):
		hasSep, j = true, i+2
	}
	if !hasSep {
		if !p.restIsComment(i) {
			return p.errorf(line, "malformed line (expected KEY=value)")
		}
		p.advance(p.lineEnd(i))
		if export {
			if _, ok := p.hash[key]; !ok {
				return p.errorf(line, "Line %s has an unset variable", ruby.InspectString("export "+key))
			}
			return nil
		}
		return p.set(key, "", line)
	}

	if export && (j == len(p.src) || p.src[j] == '#' || p.src[j] == '\n') && !p.inEnv(key) {
		// "export F=" has no value (the gem's value group is empty):
		// like "export F", it must name a variable set earlier.
		end := p.lineEnd(j)
		text := p.src[start:end]
		p.advance(end)
		if _, ok := p.hash[key]; !ok {
			return p.errorf(line, "Line %q has an unset variable", text)
		}
		return nil
	}
	raw, end := p.value(j)
	p.advance(end)
	if p.inEnv(key) {
		if v, ok := p.o.getenv(key); ok {
			p.hash[key] = v
			p.entries = append(p.entries, dotenvEntry{key: key, value: v, line: line})
			return nil
		}
	}
	v, err := p.parseValue(raw, line)
	if err != nil {
		return err
	}
	return p.set(key, v, line)
}

// inEnv reports whether key keeps the environment's value (the gem's
// existing?, in non-overwrite mode).
func (p *dotenvParser) inEnv(key string) bool {
	if !p.o.keepEnv || key == "DOTENV_LINEBREAK_MODE" {
		return false
	}
	_, ok := p.o.getenv(key)
	return ok
}

func (p *dotenvParser) set(key, v string, line int) error {
	p.hash[key] = v
	p.entries = append(p.entries, dotenvEntry{key: key, value: v, line: line})
	return nil
}

// value returns the raw value text starting at from and the offset after
// the line (comment included). A quoted value is used when a closing quote
// exists after which only blanks or a comment follow on that line;
// otherwise the value is unquoted and ends at "#" or the end of the line.
func (p *dotenvParser) value(from int) (raw string, end int) {
	i := from
	for i < len(p.src) && isBlank(p.src[i]) {
		i++
	}
	if i < len(p.src) && (p.src[i] == '"' || p.src[i] == '\'') {
		if closeAt, ok := p.closingQuote(i); ok {
			return p.src[i : closeAt+1], p.lineEnd(closeAt + 1)
		}
	}
	e := from
	for e < len(p.src) && p.src[e] != '#' && p.src[e] != '\n' {
		e++
	}
	return p.src[from:e], p.lineEnd(e)
}

// closingQuote finds the closing quote for the quote at open the way the
// gem's regexp does: an escaped quote may be part of the value or close
// it, an unescaped one always closes; the longest candidate that is
// followed only by blanks or a comment on its line wins.
func (p *dotenvParser) closingQuote(open int) (int, bool) {
	q := p.src[open]
	var candidates []int
	for i := open + 1; i < len(p.src); i++ {
		if p.src[i] != q {
			continue
		}
		candidates = append(candidates, i)
		if p.src[i-1] != '\\' || i-1 == open {
			break
		}
	}
	for k := len(candidates) - 1; k >= 0; k-- {
		if p.restIsComment(candidates[k] + 1) {
			return candidates[k], true
		}
	}
	return 0, false
}

// parseValue is the gem's parse_value: strip, unquote, expand or keep
// newlines, unescape and substitute.
func (p *dotenvParser) parseValue(raw string, line int) (string, error) {
	v := strings.Trim(raw, " \t\n\v\f\r\x00")
	var quote byte
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		quote, v = v[0], v[1:len(v)-1]
	}
	if quote == '\'' {
		return v, nil
	}
	if quote == '"' {
		if p.lookup("DOTENV_LINEBREAK_MODE") == "legacy" {
			v = strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(v)
		} else {
			v = strings.NewReplacer(`\n`, `\\n`, `\r`, `\\r`).Replace(v)
		}
	}
	v = unescapeDotenv(v)
	v, err := p.substituteCommands(v, line)
	if err != nil {
		return "", err
	}
	return p.substituteVariables(v), nil
}

// unescapeDotenv removes a backslash before any character except "$".
func unescapeDotenv(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) && v[i+1] != '$' {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

func (p *dotenvParser) lookup(key string) string {
	if v, ok := p.hash[key]; ok {
		return v
	}
	v, _ := p.o.getenv(key)
	return v
}

// balancedParens returns the offset after the ")" matching the "(" at
// open, requiring at least one character inside.
func balancedParens(s string, open int) (int, bool) {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				if i == open+1 {
					return 0, false
				}
				return i + 1, true
			}
		}
	}
	return 0, false
}

func (p *dotenvParser) substituteCommands(v string, line int) (string, error) {
	if !strings.Contains(v, "$(") {
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		escaped := v[i] == '\\' && strings.HasPrefix(v[i+1:], "$(")
		if escaped || strings.HasPrefix(v[i:], "$(") {
			open := i + 1
			if escaped {
				open = i + 2
			}
			if end, ok := balancedParens(v, open); ok {
				if escaped {
					b.WriteString(v[i+1 : end])
				} else {
					out, err := p.command(v[open+1:end-1], line)
					if err != nil {
						return "", err
					}
					b.WriteString(out)
				}
				i = end
				continue
			}
		}
		b.WriteByte(v[i])
		i++
	}
	return b.String(), nil
}

// command runs the $(...) command written as written. Its messages quote
// it as written, never with its variables substituted: those are often
// other secrets (a token in an Authorization header).
func (p *dotenvParser) command(written string, line int) (string, error) {
	if p.o.run == nil {
		return "", p.errorf(line, "command substitution $(%s) is not allowed here", written)
	}
	text := p.substituteVariables(written)
	if p.o.inline != nil && inlineSecretsCommand.MatchString(text) {
		// Kamal runs these in-process (Kamal::Cli::Main.start with
		// --inline): their errors are the load's.
		words, err := ruby.Shellsplit(text)
		if err != nil {
			return "", newError(kamalerr.ClassArgument, "%s", err.Error())
		}
		out, err := p.o.inline(append(words[1:], "--inline"))
		if err != nil {
			return "", err
		}
		return ruby.Chomp(out), nil
	}
	out, status, err := p.o.run(text)
	if errors.Is(err, errCommandInterrupted) {
		return "", interrupted(fmt.Sprintf("$(%s) (%s:%d)", written, p.o.name, line))
	}
	if err != nil {
		return "", newError(kamalerr.ClassRuntime, "%s:%d: command $(%s) could not run: %v", p.o.name, line, written, err)
	}
	if status != 0 {
		return "", newError(kamalerr.ClassRuntime, "%s:%d: command $(%s) failed with exit status %d", p.o.name, line, written, status)
	}
	return ruby.Chomp(out), nil
}

func isVarByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// substituteVariables is the gem's Variable substitution:
// (\\)?(\$)(?!\()\{?([A-Z0-9_]+)?\}? case-insensitively.
func (p *dotenvParser) substituteVariables(v string) string {
	if !strings.Contains(v, "$") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		start := i
		escaped := false
		if v[i] == '\\' && i+1 < len(v) && v[i+1] == '$' && (i+2 >= len(v) || v[i+2] != '(') {
			escaped, i = true, i+1
		}
		if v[i] != '$' || (i+1 < len(v) && v[i+1] == '(') {
			b.WriteByte(v[start])
			i = start + 1
			continue
		}
		j := i + 1
		if j < len(v) && v[j] == '{' {
			j++
		}
		ns := j
		for j < len(v) && isVarByte(v[j]) {
			j++
		}
		name := v[ns:j]
		if j < len(v) && v[j] == '}' {
			j++
		}
		switch {
		case escaped:
			b.WriteString(v[i:j])
		case name != "":
			b.WriteString(p.lookup(name))
		default:
			b.WriteString(v[i:j])
		}
		i = j
	}
	return b.String()
}

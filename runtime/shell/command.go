// Package shell models command lines the way SSHKit renders them for Kamal:
// a command is a list of words joined by single spaces, compound commands are
// words interleaved with shell operators, and only the first word is mapped
// (prefixed with /usr/bin/env) before execution.
//
// Words marked sensitive are replaced by [REDACTED] in every rendering meant
// for humans (Logged); only Executed carries their real text.
package shell

import (
	"slices"
	"strings"
)

// Redacted is what a sensitive word looks like in a log line.
const Redacted = "[REDACTED]"

// Word is one token of a command line. Text is inserted verbatim: any quoting
// it needs is already part of it (see Escape).
type Word struct {
	Text      string
	Sensitive bool
	// Shown, when set, is what log lines show instead of Text (or of
	// [REDACTED]): the executed and the logged forms of a command may
	// differ, e.g. `--password-stdin` runs where Kamal's log line reads
	// `-p [REDACTED]`.
	Shown string
	// Literal marks a word that must reach the command as exactly this
	// one word (a word a user script passed): it is rendered quoted when
	// the shell would otherwise split or expand it. Kamal's own words are
	// not literal: they carry their quoting in Text already.
	Literal bool
}

// EnvVar is one variable exported around a command.
type EnvVar struct {
	Key, Value string
}

// Command is an immutable-by-convention command line. The zero value is an
// empty command. Commands are plain values and safe to share between
// goroutines as long as nobody mutates them after construction.
type Command struct {
	Words []Word
	Env   []EnvVar
	// Stdin is fed to the command's standard input when it runs (a
	// password, say). It is never rendered.
	Stdin string
	// ProcessEnv holds "K=V" entries added to the environment of the
	// process that runs a local command (build secrets). Unlike Env it is
	// never rendered, not even in the DEBUG "Command:" line.
	ProcessEnv []string
	// Setup, when set, runs first in the same shell (`SETUP && COMMAND`)
	// and is never logged: a step the command needs where Kamal's own
	// form fails (Kamal 1.9's audit line on a server without .kamal).
	Setup *Command
}

// New returns a command made of plain (non-sensitive) words.
func New(words ...string) *Command {
	c := &Command{}
	for _, w := range words {
		c.Words = append(c.Words, Word{Text: w})
	}
	return c
}

// Arg appends plain words and returns c.
func (c *Command) Arg(words ...string) *Command {
	for _, w := range words {
		c.Words = append(c.Words, Word{Text: w})
	}
	return c
}

// Literal appends words that reach the command as exactly these words,
// quoted where the shell needs it, and returns c.
func (c *Command) Literal(words ...string) *Command {
	for _, w := range words {
		c.Words = append(c.Words, Word{Text: w, Literal: true})
	}
	return c
}

// Equal reports whether c and d are the same command: the same words
// (with the same sensitivity and rendering), environment and input.
func (c *Command) Equal(d *Command) bool {
	if c.Empty() || d.Empty() {
		return c.Empty() == d.Empty() && len(c.env()) == 0 && len(d.env()) == 0
	}
	return slices.Equal(c.Words, d.Words) && slices.Equal(c.Env, d.Env) &&
		c.Stdin == d.Stdin && slices.Equal(c.ProcessEnv, d.ProcessEnv)
}

func (c *Command) env() []EnvVar {
	if c == nil {
		return nil
	}
	return c.Env
}

// Secret appends a sensitive word and returns c.
func (c *Command) Secret(word string) *Command {
	c.Words = append(c.Words, Word{Text: word, Sensitive: true})
	return c
}

// Shown appends a word that runs as text but is logged as shown, and
// returns c.
func (c *Command) Shown(text, shown string) *Command {
	c.Words = append(c.Words, Word{Text: text, Shown: shown})
	return c
}

// Append appends the words of other (keeping their sensitivity), its
// environment and its input, and returns c.
func (c *Command) Append(other *Command) *Command {
	if other != nil {
		c.Words = append(c.Words, other.Words...)
		c.Env = append(c.Env, other.Env...)
		c.ProcessEnv = append(c.ProcessEnv, other.ProcessEnv...)
		if c.Stdin == "" {
			c.Stdin = other.Stdin
		}
	}
	return c
}

// WithEnv returns a copy of c that exports key=value around the command.
func (c *Command) WithEnv(key, value string) *Command {
	d := c.Clone()
	d.Env = append(d.Env, EnvVar{key, value})
	return d
}

// Clone returns a deep copy of c.
func (c *Command) Clone() *Command {
	return &Command{
		Words:      append([]Word(nil), c.Words...),
		Env:        append([]EnvVar(nil), c.Env...),
		Stdin:      c.Stdin,
		ProcessEnv: append([]string(nil), c.ProcessEnv...),
		Setup:      c.Setup,
	}
}

// Empty reports whether c has no words. Kamal would run such a command as
// a bare "/usr/bin/env" (printing the environment); callers skip it instead.
func (c *Command) Empty() bool { return c == nil || len(c.Words) == 0 }

func join(op string, cmds []*Command) *Command {
	out := &Command{}
	for _, c := range cmds {
		if c.Empty() {
			continue
		}
		if len(out.Words) > 0 {
			out.Words = append(out.Words, Word{Text: op})
		}
		out.Words = append(out.Words, c.Words...)
		out.Env = append(out.Env, c.Env...)
		out.ProcessEnv = append(out.ProcessEnv, c.ProcessEnv...)
		if out.Stdin == "" {
			out.Stdin = c.Stdin
		}
	}
	return out
}

// Combine joins commands with "&&"; empty commands are dropped.
func Combine(cmds ...*Command) *Command { return join("&&", cmds) }

// Chain joins commands with ";".
func Chain(cmds ...*Command) *Command { return join(";", cmds) }

// Pipe joins commands with "|".
func Pipe(cmds ...*Command) *Command { return join("|", cmds) }

// Any joins commands with "||".
func Any(cmds ...*Command) *Command { return join("||", cmds) }

// unmapped are the first words SSHKit runs as they are: docker is mapped to
// itself by Kamal, the rest are SSHKit's shell built-ins.
var unmapped = map[string]bool{"docker": true, "if": true, "test": true, "time": true, "exec": true}

func (c *Command) render(redact bool) string {
	if c.Empty() {
		return ""
	}
	first := c.Words[0]
	text := func(w Word) string {
		switch {
		case redact && w.Shown != "":
			return w.Shown
		case redact && w.Sensitive:
			return Redacted
		case w.Literal:
			return Quote(w.Text)
		}
		return w.Text
	}
	// A first word with whitespace is a whole script: SSHKit runs it alone,
	// verbatim, dropping the rest.
	if !first.Literal && strings.ContainsAny(first.Text, " \t\n") {
		lines := strings.Split(first.Text, "\n")
		for i := range lines {
			lines[i] = strings.TrimSpace(lines[i])
		}
		return strings.Join(lines, "; ")
	}
	var b strings.Builder
	if !unmapped[first.Text] {
		b.WriteString("/usr/bin/env ")
	}
	for i, w := range c.Words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(text(w))
	}
	return b.String()
}

// Logged is the command as the "Running ..." line shows it: mapped, with
// sensitive words redacted and without the environment wrapper.
func (c *Command) Logged() string { return c.render(true) }

// Executed is the exact string handed to the shell: mapped, with the real
// text of every word and the ( export K="v" ; ... ) wrapper when the command
// carries environment variables.
func (c *Command) Executed() string {
	if c.Setup != nil && !c.Setup.Empty() {
		return c.wrap(c.Setup.Executed() + " && " + c.render(false))
	}
	return c.wrap(c.render(false))
}

// Debug is the command as the DEBUG "Command: ..." line shows it: the
// executed form with sensitive words redacted.
func (c *Command) Debug() string { return c.wrap(c.render(true)) }

func (c *Command) wrap(s string) string {
	if len(c.Env) == 0 {
		return s
	}
	var b strings.Builder
	b.WriteString("( export")
	for _, e := range c.Env {
		b.WriteString(" " + e.Key + `="` + strings.ReplaceAll(e.Value, `"`, `\"`) + `"`)
	}
	b.WriteString(" ; " + s + " )")
	return b.String()
}

// Name is the command's first word, which Kamal uses to name a failed
// command in its error message ("docker exit status: 256").
func (c *Command) Name() string {
	if c.Empty() {
		return ""
	}
	return c.Words[0].Text
}

// SensitiveWords returns the real text of every sensitive word, so that a
// logger can scrub them from output the command itself prints.
func (c *Command) SensitiveWords() []string {
	var out []string
	for _, w := range c.Words {
		if w.Sensitive {
			out = append(out, w.Text)
		}
	}
	if c.Stdin != "" {
		out = append(out, c.Stdin)
	}
	return out
}

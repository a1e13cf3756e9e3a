// Package log prints what kamal does in the format of SSHKit's "pretty"
// formatter, which Kamal users read every day:
//
//	 INFO [1a2b3c4d] Running docker pull app:1 on server1
//	DEBUG [1a2b3c4d] Command: docker pull app:1
//	DEBUG [1a2b3c4d] 	1: Pulling from app
//	 INFO [1a2b3c4d] Finished in 0.123 seconds with exit status 0 (successful).
//
// plus Thor's plain "say" lines, which ignore verbosity.
//
// A Logger is safe for concurrent use: each line is written whole, under a
// mutex, so lines from hosts running in parallel interleave but never mix.
package log

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Level is a log level; a line prints when its level is at least the
// threshold.
type Level int

const (
	Debug Level = iota
	Info
	Warn
	Error
	Fatal
)

var levelNames = [...]string{"DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// String is the level's name as SSHKit prints it, unpadded.
func (l Level) String() string { return levelNames[l] }

// ParseLevel turns "debug", "info", ... into a Level.
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(n, s) {
			return Level(i), nil
		}
	}
	return Info, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

// ANSI colour codes used by SSHKit and Thor.
const (
	black   = 30
	red     = 31
	green   = 32
	yellow  = 33
	blue    = 34
	magenta = 35
)

var levelColors = [...]int{black, blue, yellow, red, red}

// Logger writes log lines to one writer.
type Logger struct {
	mu        sync.Mutex
	out       io.Writer
	threshold Level
	color     bool
	secrets   []string // every secret value registered
	plain     []string // text known not to be secret (AddPlain)
	scrubbed  []string // the secrets scrubbed from output, longest first
	live      Live     // a live line under the log (--progress=condensed), or nil
}

// Live is a line drawn under the log on a terminal (runtime/progress):
// while it is Active, the log keeps its lines below Error to itself, and
// writes every other line through Above, which takes the live line away
// and draws it again under the new line.
type Live interface {
	Active() bool
	Above(write func())
}

// SetLive puts v under the log (nil: none).
func (l *Logger) SetLive(v Live) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live = v
}

// emit writes s, above the live line if there is one. The caller holds
// l.mu.
func (l *Logger) emit(s string) {
	if l.live == nil {
		io.WriteString(l.out, s)
		return
	}
	l.live.Above(func() { io.WriteString(l.out, s) })
}

// New returns a logger writing to out at threshold Info. color turns on
// SSHKit's ANSI colours (the CLI enables it only on a terminal without
// NO_COLOR).
func New(out io.Writer, color bool) *Logger {
	return &Logger{out: out, threshold: Info, color: color}
}

// SetThreshold sets the verbosity: Debug for -v, Error for -q.
func (l *Logger) SetThreshold(t Level) {
	l.mu.Lock()
	l.threshold = t
	l.mu.Unlock()
}

// Threshold returns the current verbosity.
func (l *Logger) Threshold() Level {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.threshold
}

// Color reports whether the logger colours its output.
func (l *Logger) Color() bool { return l.color }

// AddSecret registers secret values. Redaction where a secret is used is
// the commands' job (their sensitive words print as [REDACTED]); the
// logger only scrubs text nobody built, command output and error
// messages, and only of values that cannot be mistaken for ordinary text
// (see Scrubbable and AddPlain). Every line of a multi-line value (a
// private key) is registered as well, except its ----- armour lines.
func (l *Logger) AddSecret(values ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range values {
		if lines := strings.Split(strings.TrimSpace(v), "\n"); len(lines) > 1 {
			for _, line := range lines {
				if line = strings.TrimSpace(line); !strings.HasPrefix(line, "-----") {
					values = append(values, line)
				}
			}
		}
	}
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(l.secrets, v) {
			l.secrets = append(l.secrets, v)
		}
	}
	l.update()
}

// AddPlain registers text known not to be secret: the configuration's own
// values (hosts, image, service, labels, clear env...). A secret value
// found inside any of them is never scrubbed, since scrubbing it would
// change that text wherever it appears.
func (l *Logger) AddPlain(values ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.plain = append(l.plain, values...)
	l.update()
}

// Scrubbable is the rule for a value scrubbed from output: at least 8
// characters, and a digit in it or at least 16 characters. A word such as
// "secret" or "production" is ordinary text; a token or a password is not.
func Scrubbable(v string) bool {
	if len(v) < 8 {
		return false
	}
	return len(v) >= 16 || strings.ContainsAny(v, "0123456789")
}

// update recomputes the values scrubbed; the caller holds l.mu.
func (l *Logger) update() {
	l.scrubbed = l.scrubbed[:0]
	for _, v := range l.secrets {
		if Scrubbable(v) && !slices.ContainsFunc(l.plain, func(p string) bool { return strings.Contains(p, v) }) {
			l.scrubbed = append(l.scrubbed, v)
		}
	}
	// Longest first, so overlapping secrets are scrubbed whole.
	sort.SliceStable(l.scrubbed, func(i, j int) bool { return len(l.scrubbed[i]) > len(l.scrubbed[j]) })
}

// Scrub replaces every scrubbed secret in s with [REDACTED].
func (l *Logger) Scrub(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.scrub(s)
}

func (l *Logger) scrub(s string) string {
	for _, v := range l.scrubbed {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, "[REDACTED]")
		}
	}
	return s
}

func (l *Logger) paint(code int, bold bool, s string) string {
	if !l.color || s == "" {
		return s
	}
	weight := 0
	if bold {
		weight = 1
	}
	return fmt.Sprintf("\x1b[%d;%d;49m%s\x1b[0m", weight, code, s)
}

func (l *Logger) prefix(level Level) string {
	return l.paint(levelColors[level], false, fmt.Sprintf("%6s", level.String()))
}

// write prints one line, scrubbed, if level passes the threshold (or
// force is set). The caller holds no lock.
func (l *Logger) write(level Level, force bool, line string) {
	l.writeLine(level, force, line, true)
}

// writeLine is write with scrubbing optional: a command line is rendered
// from words whose secrets are already redacted, and is printed as built.
func (l *Logger) writeLine(level Level, force bool, line string, scrub bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if level < l.threshold && !force {
		return
	}
	if level < Error && l.live != nil && l.live.Active() {
		return // the live line stands for it
	}
	if scrub {
		line = l.scrub(line)
	}
	l.emit(line + "\n")
}

// Log prints a plain line at level: "  INFO text". The text is stripped of
// surrounding white space, as SSHKit does.
func (l *Logger) Log(level Level, text string) {
	l.write(level, false, l.prefix(level)+" "+strings.TrimSpace(text))
}

// Debugf, Infof, Warnf and Errorf are Log with formatting.
func (l *Logger) Debugf(format string, a ...any) { l.Log(Debug, fmt.Sprintf(format, a...)) }
func (l *Logger) Infof(format string, a ...any)  { l.Log(Info, fmt.Sprintf(format, a...)) }
func (l *Logger) Warnf(format string, a ...any)  { l.Log(Warn, fmt.Sprintf(format, a...)) }
func (l *Logger) Errorf(format string, a ...any) { l.Log(Error, fmt.Sprintf(format, a...)) }

// Thor's colours for say.
var sayColors = map[string]int{"red": red, "green": green, "yellow": yellow, "blue": blue, "magenta": magenta}

// ValidSayColor reports whether name is a colour Say understands ("" included).
func ValidSayColor(name string) bool {
	_, ok := sayColors[name]
	return ok || name == ""
}

// Say prints msg the way Thor's say does: whatever the verbosity, followed
// by a newline unless it ends in a space or tab, coloured only when colour
// is on.
func (l *Logger) Say(msg, color string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg = l.scrub(msg)
	if code, ok := sayColors[color]; ok && l.color {
		msg = fmt.Sprintf("\x1b[%dm%s\x1b[0m", code, msg)
	}
	if !strings.HasSuffix(msg, " ") && !strings.HasSuffix(msg, "\t") {
		msg += "\n"
	}
	l.emit(msg)
}

// Fatal prints Kamal's last line for an error that ends the run. It is red
// whatever the terminal, as in Kamal's executable.
func (l *Logger) Fatal(class, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.emit(fmt.Sprintf("  \x1b[31mERROR (%s): %s\x1b[0m\n", class, l.scrub(message)))
}

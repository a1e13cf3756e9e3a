package log

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// NewID returns a fresh command id: 8 lowercase hex digits, random, as
// SSHKit's.
func NewID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CommandLog logs the life of one command under one id. Level is the
// command's verbosity (Info for execute, Debug for capture); Force shows
// every line of the command whatever the threshold, as Kamal does for the
// build command.
type CommandLog struct {
	L     *Logger
	ID    string
	Level Level
	Force bool
}

func (c *CommandLog) id() string { return "[" + c.L.paint(green, false, c.ID) + "]" }

// Start prints "Running <cmd> <where>" and the DEBUG "Command: <executed>"
// line. where is "on HOST", "as USER@localhost" or "on localhost".
//
// Both lines are printed as given, never scrubbed: the command's sensitive
// words are already [REDACTED] in them, as SSHKit redacts the arguments
// Kamal marks, and scrubbing would change hosts or option names that
// happen to contain a secret's value.
func (c *CommandLog) Start(logged, debug, where string) {
	c.L.writeLine(c.Level, c.Force, fmt.Sprintf("%s %s Running %s %s",
		c.L.prefix(c.Level), c.id(), c.L.paint(yellow, true, logged), c.L.paint(blue, false, where)), false)
	c.L.writeLine(Debug, c.Force, fmt.Sprintf("%s %s Command: %s", c.L.prefix(Debug), c.id(), c.L.paint(blue, false, debug)), false)
}

// Output prints one line of the command's output at DEBUG, after a tab.
func (c *CommandLog) Output(line string, stderr bool) {
	color := green
	if stderr {
		color = red
	}
	c.L.write(Debug, c.Force, fmt.Sprintf("%s %s \t%s", c.L.prefix(Debug), c.id(), c.L.paint(color, false, line)))
}

// Finish prints "Finished in N seconds with exit status S (successful)."
func (c *CommandLog) Finish(d time.Duration, status int) {
	word := c.L.paint(green, true, "successful")
	if status != 0 {
		word = c.L.paint(red, true, "failed")
	}
	c.L.write(c.Level, c.Force, fmt.Sprintf("%s %s Finished in %5.3f seconds with exit status %d (%s).",
		c.L.prefix(c.Level), c.id(), d.Seconds(), status, word))
}

// LineWriter is an io.Writer that logs each complete line it receives
// through a CommandLog and keeps the last Keep bytes of what it saw (for
// the failure message), or everything when Keep is negative (for captures).
// It is not safe for concurrent use: use one per stream.
type LineWriter struct {
	Log     *CommandLog
	Stderr  bool
	Keep    int
	partial []byte
	kept    bytes.Buffer
}

// Write logs every complete line in p and buffers the rest.
func (w *LineWriter) Write(p []byte) (int, error) {
	w.keep(p)
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.Log.Output(string(bytes.TrimSuffix(w.partial[:i], []byte("\r"))), w.Stderr)
		w.partial = w.partial[i+1:]
	}
	// Long lines without a newline (progress bars) are flushed in pieces
	// so memory stays bounded.
	if len(w.partial) > 64<<10 {
		w.Log.Output(string(w.partial), w.Stderr)
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

func (w *LineWriter) keep(p []byte) {
	if w.Keep == 0 {
		return
	}
	w.kept.Write(p)
	if w.Keep > 0 && w.kept.Len() > 2*w.Keep {
		tail := append([]byte(nil), w.kept.Bytes()[w.kept.Len()-w.Keep:]...)
		w.kept.Reset()
		w.kept.Write(tail)
	}
}

// Flush logs a final unterminated line, if any.
func (w *LineWriter) Flush() {
	if len(w.partial) > 0 {
		w.Log.Output(string(w.partial), w.Stderr)
		w.partial = nil
	}
}

// Text returns what was kept of the stream.
func (w *LineWriter) Text() string {
	b := w.kept.Bytes()
	if w.Keep > 0 && len(b) > w.Keep {
		b = b[len(b)-w.Keep:]
	}
	return string(b)
}

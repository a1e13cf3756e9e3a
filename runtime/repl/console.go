package repl

import (
	"io"
	"sync"

	"golang.org/x/term"
)

// Console is the run's standard output, shared by the log and the prompt.
// While a prompt edits a line on a terminal (raw mode, where a bare
// newline does not return the carriage), what other threads log goes
// through the line editor, which clears the prompt, prints the text with
// CRLF line ends and draws the prompt and the half-typed line again:
// output never lands stair-stepped in the middle of the prompt.
//
// A Console is safe for concurrent use.
type Console struct {
	out io.Writer

	mu     sync.Mutex
	editor *term.Terminal // the line editor editing now, or nil
}

var _ io.Writer = (*Console)(nil)

// NewConsole returns a console writing to out.
func NewConsole(out io.Writer) *Console { return &Console{out: out} }

func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	ed := c.editor
	c.mu.Unlock()
	if ed != nil {
		return ed.Write(p)
	}
	return c.out.Write(p)
}

// editing routes writes through ed until it is called again with nil.
func (c *Console) editing(ed *term.Terminal) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.editor = ed
	c.mu.Unlock()
}

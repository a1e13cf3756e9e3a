package repl

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// The prompt on a terminal.
//
// Ctrl-C must cancel the statement that runs and keep the prompt. Were it
// SIGINT, the run's signal handling (which ends the run, and exits at once
// on a second signal) would see it too; so while a prompt is open the
// terminal never raises SIGINT: the line editor runs in raw mode, and a
// statement runs with the terminal as it was (output processing on) but
// without ISIG, ICANON and ECHO, while a keyboard goroutine watches for the
// Ctrl-C byte and cancels the statement.
//
// One keyboard owns the reads of a terminal for the rest of the process,
// so that a prompt opened inside a statement (breakpoint() in a function
// the prompt called) reads the keys instead of the outer statement's
// watcher: prompts are levels, and the innermost one gets the keys.

const keyCtrlC = 3

type keyboard struct {
	f    *os.File
	fd   int
	orig unix.Termios // the mode before any prompt

	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte // keys read and not yet edited (typed ahead, too)
	err    error  // the read error that stopped the reads
	levels []*level
}

// level is one open prompt.
type level struct {
	cancel func() // while its statement runs: what Ctrl-C calls
}

var (
	keyboardsMu sync.Mutex
	keyboards   = map[int]*keyboard{}
)

func keyboardOf(f *os.File) (*keyboard, error) {
	keyboardsMu.Lock()
	defer keyboardsMu.Unlock()
	fd := int(f.Fd())
	if kb, ok := keyboards[fd]; ok {
		return kb, nil
	}
	t, err := unix.IoctlGetTermios(fd, ioctlGetTermios)
	if err != nil {
		return nil, err
	}
	kb := &keyboard{f: f, fd: fd, orig: *t}
	kb.cond = sync.NewCond(&kb.mu)
	keyboards[fd] = kb
	go kb.read()
	return kb, nil
}

func (kb *keyboard) read() {
	b := make([]byte, 256)
	for {
		n, err := kb.f.Read(b)
		kb.mu.Lock()
		chunk := b[:n]
		if top := kb.top(); top != nil && top.cancel != nil {
			// A statement runs: Ctrl-C stops it, other keys wait for the
			// next line.
			if bytes.IndexByte(chunk, keyCtrlC) >= 0 {
				top.cancel()
			} else {
				kb.buf = append(kb.buf, chunk...)
			}
		} else {
			kb.buf = append(kb.buf, chunk...)
		}
		if err != nil {
			kb.err = err
		}
		kb.cond.Broadcast()
		kb.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (kb *keyboard) top() *level {
	if len(kb.levels) == 0 {
		return nil
	}
	return kb.levels[len(kb.levels)-1]
}

// setMode puts the terminal in the mode the innermost prompt needs.
// Called with mu held.
func (kb *keyboard) setMode() {
	t := kb.orig
	switch top := kb.top(); {
	case top == nil:
	case top.cancel != nil: // a statement runs: output as usual, keys to the watcher
		t.Lflag &^= unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHONL | unix.IEXTEN
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	default: // editing: raw, as cfmakeraw (and golang.org/x/term's MakeRaw)
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	}
	unix.IoctlSetTermios(kb.fd, ioctlSetTermios, &t)
}

func (kb *keyboard) push() *level {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	l := &level{}
	kb.levels = append(kb.levels, l)
	kb.setMode()
	return l
}

func (kb *keyboard) pop(l *level) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	for i := len(kb.levels) - 1; i >= 0; i-- {
		if kb.levels[i] == l {
			kb.levels = append(kb.levels[:i], kb.levels[i+1:]...)
			break
		}
	}
	kb.setMode()
}

func (kb *keyboard) running(l *level, cancel func()) {
	kb.mu.Lock()
	defer kb.mu.Unlock()
	l.cancel = cancel
	kb.setMode()
}

// editorInput is what the line editor reads: the keyboard's keys, noting
// a Ctrl-C among them.
type editorInput struct {
	kb      *keyboard
	ctrlC   atomic.Bool
	aborted bool // under kb.mu: reads end (see TermReader.Abort)
}

func (e *editorInput) Read(p []byte) (int, error) {
	kb := e.kb
	kb.mu.Lock()
	defer kb.mu.Unlock()
	for len(kb.buf) == 0 && kb.err == nil && !e.aborted {
		kb.cond.Wait()
	}
	if e.aborted {
		return 0, io.EOF
	}
	if len(kb.buf) == 0 {
		return 0, kb.err
	}
	n := copy(p, kb.buf)
	kb.buf = kb.buf[n:]
	if bytes.IndexByte(p[:n], keyCtrlC) >= 0 {
		e.ctrlC.Store(true)
	}
	return n, nil
}

// TermReader edits lines on a terminal.
type TermReader struct {
	kb    *keyboard
	level *level
	in    *editorInput
	t     *term.Terminal
	hist  *fileHistory
	// newTerm makes a line editor on the terminal, sharing the history.
	newTerm func() *term.Terminal
	console *Console
	scrub   func(string) string // Prompt.Scrub
}

func newTermReader(p Prompt, globals starlark.StringDict) (*TermReader, error) {
	kb, err := keyboardOf(p.In)
	if err != nil {
		return nil, err
	}
	in := &editorInput{kb: kb}
	rw := struct {
		io.Reader
		io.Writer
	}{in, p.Out}
	h := loadHistory(p.HistoryFile)
	r := &TermReader{kb: kb, in: in, hist: h, console: p.Console, scrub: p.scrubber()}
	r.newTerm = func() *term.Terminal {
		t := term.NewTerminal(rw, ">>> ")
		t.History = h
		t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
			if key != '\t' {
				return "", 0, false
			}
			newLine, newPos, ok, candidates := complete(line, pos, globals)
			if !ok && len(candidates) > 1 {
				// Nothing to extend: show the choices (the editor draws
				// the prompt and the line again below them).
				t.Write([]byte(columns(candidates, 100)))
			}
			return newLine, newPos, ok
		}
		return t
	}
	r.t = r.newTerm()
	// From here the terminal is raw: the log goes through the editor.
	r.console.editing(r.t)
	r.level = kb.push()
	return r, nil
}

func (r *TermReader) ReadLine(prompt string) (string, error) {
	r.t.SetPrompt(prompt)
	r.in.ctrlC.Store(false)
	r.console.editing(r.t)
	line, err := r.t.ReadLine()
	if err == term.ErrPasteIndicator {
		err = nil
	}
	// x/term ends ReadLine with io.EOF for Ctrl-C as for Ctrl-D, and keeps
	// the half-typed line and the unread keys, Ctrl-C included, for the
	// next ReadLine; so after a Ctrl-C the editor starts afresh.
	if err == io.EOF && r.in.ctrlC.Swap(false) {
		r.t = r.newTerm()
		return "", ErrInterrupt
	}
	return line, err
}

func (r *TermReader) Print(s string) { r.t.Write([]byte(r.scrub(s))) }

// abort makes the line being read, and every later one, end as at
// Ctrl-D: the run was interrupted while the prompt waited.
func (r *TermReader) Abort() {
	r.kb.mu.Lock()
	r.in.aborted = true
	r.kb.cond.Broadcast()
	r.kb.mu.Unlock()
}

// endLine ends the line of a prompt left with Ctrl-D, so that what the
// run prints next starts on a line of its own. The editor is replaced:
// the old one would draw its prompt again after the newline.
func (r *TermReader) EndLine() {
	r.t = r.newTerm()
	r.console.editing(r.t)
	r.t.Write([]byte("\n"))
}

func (r *TermReader) Running(cancel func()) { r.kb.running(r.level, cancel) }

func (r *TermReader) Close() {
	r.console.editing(nil)
	r.kb.pop(r.level)
	r.hist.save()
}

// linesOf returns the one line reader of f, so that a prompt opened
// inside a statement of a piped session reads the next lines instead of
// finding them buffered away by the outer prompt.
func linesOf(f *os.File) *lineReader {
	readersMu.Lock()
	defer readersMu.Unlock()
	lr, ok := readers[f]
	if !ok {
		lr = &lineReader{r: bufio.NewReader(f)}
		readers[f] = lr
	}
	return lr
}

var (
	readersMu sync.Mutex
	readers   = map[*os.File]*lineReader{}
)

// MaxLine is the longest input line a prompt takes, 1 MiB; a longer one
// is refused once (ErrLineTooLong) and skipped to its end, never kept in
// memory whole.
const MaxLine = 1 << 20

// ErrLineTooLong is what ReadLine returns, once, for a line over MaxLine.
var ErrLineTooLong = errors.New("input line longer than 1 MiB: ignored")

// lineReader reads lines of any length without holding more than MaxLine
// of one. Not safe for concurrent use (one prompt reads at a time).
type lineReader struct{ r *bufio.Reader }

// next returns the next line without its "\n" (and a "\r" before it),
// ErrLineTooLong for an over-long line (the next call reads the line
// after it), or io.EOF.
func (lr *lineReader) next() (string, error) {
	var line []byte
	tooLong := false
	for {
		chunk, err := lr.r.ReadSlice('\n')
		if !tooLong && len(line)+len(chunk) > MaxLine+2 { // room for "\r\n"
			tooLong, line = true, nil
		}
		if !tooLong {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (len(line) > 0 || tooLong) {
			break // a last line without "\n"
		}
		if err != nil {
			return "", err
		}
		break
	}
	if tooLong {
		return "", ErrLineTooLong
	}
	s := strings.TrimSuffix(string(line), "\n")
	return strings.TrimSuffix(s, "\r"), nil
}

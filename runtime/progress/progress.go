// Package progress draws --progress=condensed's live line: while a step
// runs on many hosts, one line at the bottom of the terminal, redrawn in
// place, says how far it is (step, hosts done / failed / running / total,
// elapsed time) instead of every host's log lines.
//
// A Line is safe for concurrent use: the hosts' goroutines report to it,
// its own goroutine redraws it at most ten times a second, and the log
// writes its lines above it through Above. Every method is a no-op on a
// nil *Line, which is how plain output runs.
package progress

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// MinHosts is how many hosts a step needs, more than this, for the line.
const MinHosts = 10

// Interval is the time between redraws: at most ten a second.
const Interval = 100 * time.Millisecond

// clear returns the cursor to the start of the line and erases it.
const clear = "\r\x1b[2K"

// Line is the live line of one run, on a terminal.
type Line struct {
	mu    sync.Mutex
	out   io.Writer
	now   func() time.Time
	step  string
	total int
	done  int
	fail  int
	run   int
	start time.Time
	on    bool // a step is being shown
	drawn bool // the line is on the screen
	stop  chan struct{}
	wg    sync.WaitGroup
}

// New returns a line drawn on out, a terminal.
func New(out io.Writer) *Line { return &Line{out: out, now: time.Now} }

// Begin shows step on total hosts, when total is more than MinHosts and
// no other step is shown, and returns the function that ends it (and
// clears the line). Otherwise it returns a function doing nothing, and
// the step logs as usual.
func (l *Line) Begin(step string, total int) (end func()) {
	if l == nil || total <= MinHosts {
		return func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		return func() {}
	}
	l.step, l.total, l.done, l.fail, l.run, l.start, l.on = step, total, 0, 0, 0, l.now(), true
	l.stop = make(chan struct{})
	l.draw()
	l.wg.Add(1)
	go l.tick(l.stop)
	return l.end
}

func (l *Line) tick(stop chan struct{}) {
	defer l.wg.Done()
	t := time.NewTicker(Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.draw()
			l.mu.Unlock()
		}
	}
}

func (l *Line) end() {
	l.mu.Lock()
	if !l.on {
		l.mu.Unlock()
		return
	}
	l.on = false
	close(l.stop)
	l.erase()
	l.mu.Unlock()
	l.wg.Wait()
}

// Active reports whether a step is being shown: the log then keeps its
// lines below errors to itself.
func (l *Line) Active() bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.on
}

// HostStarted and HostFinished count one host of the step shown.
func (l *Line) HostStarted() { l.count(func() { l.run++ }) }

// HostFinished counts a host as done, or failed.
func (l *Line) HostFinished(failed bool) {
	l.count(func() {
		l.run--
		if failed {
			l.fail++
		} else {
			l.done++
		}
	})
}

func (l *Line) count(f func()) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.on {
		f()
	}
}

// Above runs write (which prints whole lines to the same terminal) with
// the line taken away, and draws it again under what was written.
func (l *Line) Above(write func()) {
	if l == nil {
		write()
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.erase()
	write()
	if l.on {
		l.draw()
	}
}

// Close ends any step shown and clears the line: at exit, also after an
// interrupt.
func (l *Line) Close() {
	if l != nil {
		l.end()
	}
}

// Text is the line's words: "pull_on_host: 57/100 done, 2 failed, 41
// running, 12.3s". It holds a function name and numbers only, never a
// value of the run (no secret can reach it).
func (l *Line) Text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text()
}

func (l *Line) text() string {
	return fmt.Sprintf("%s: %d/%d done, %d failed, %d running, %.1fs",
		l.step, l.done, l.total, l.fail, l.run, l.now().Sub(l.start).Seconds())
}

// draw and erase are called with l.mu held.
func (l *Line) draw() {
	io.WriteString(l.out, clear+l.text())
	l.drawn = true
}

func (l *Line) erase() {
	if l.drawn {
		io.WriteString(l.out, clear)
		l.drawn = false
	}
}

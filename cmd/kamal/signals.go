package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// interrupts is the run's handling of SIGINT and SIGTERM.
//
// The first signal cancels the run's context: local commands get SIGTERM
// (their whole process group, then SIGKILL; runtime/executor Local),
// remote sessions are sent the signal and closed (runtime/executor SSH),
// Starlark threads stop, and clean-up that uses a detached context (the
// deploy lock's release in lock.around) still runs. The run then ends with
// "  ERROR (Interrupt): Interrupted while running …" and exit status
// 128+signal (130 for SIGINT, 143 for SIGTERM).
//
// A second signal exits at once: local commands still running are killed
// (SIGKILL to their process groups), nothing else is cleaned up (the
// deploy lock may be left; the message says so).
type interrupts struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	ch     chan os.Signal
	quit   chan struct{} // interrupt() was called
	done   chan struct{}
	logger *log.Logger

	exit func(code int) // os.Exit; tests replace it

	mu       sync.Mutex
	received os.Signal
	forward  chan<- os.Signal // a hand-off running: signals go there
	lockHeld func() bool      // reports whether the run holds the deploy lock
}

// errInterrupted is the cause of the run's context after a signal.
type errInterrupted struct{ sig os.Signal }

func (e errInterrupted) Error() string { return "interrupted by " + signalName(e.sig) }

func watchSignals(logger *log.Logger) *interrupts {
	ctx, cancel := context.WithCancelCause(context.Background())
	in := &interrupts{ctx: ctx, cancel: cancel, ch: make(chan os.Signal, 2), quit: make(chan struct{}, 1), done: make(chan struct{}), logger: logger, exit: os.Exit}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go in.loop()
	return in
}

func (in *interrupts) loop() {
	for first := true; first; {
		select {
		case s := <-in.ch:
			in.mu.Lock()
			fwd := in.forward
			if fwd == nil {
				in.received = s
			}
			in.mu.Unlock()
			if fwd != nil {
				select {
				case fwd <- s:
				default: // the hand-off has one pending already
				}
				continue
			}
			in.cancel(errInterrupted{s})
		case <-in.quit:
		case <-in.done:
			return
		}
		first = false
	}
	select {
	case s := <-in.ch:
		in.mu.Lock()
		held := in.lockHeld
		in.mu.Unlock()
		msg := "Interrupted again: exiting at once"
		if held != nil && held() {
			msg += "; the deploy lock may still be held (see kamal lock status)"
		}
		executor.KillRunning()
		in.logger.Fatal("Interrupt", msg)
		in.exit(exitStatus(s))
	case <-in.done:
	}
}

// interrupt acts as a first SIGINT would, at once (the debugger's quit):
// the run's context is cancelled and the exit status is 130; a real signal
// afterwards exits at once, as a second one does.
func (in *interrupts) interrupt() {
	in.mu.Lock()
	first := in.received == nil
	if first {
		in.received = os.Interrupt
	}
	in.mu.Unlock()
	if first {
		in.cancel(errInterrupted{os.Interrupt})
		select {
		case in.quit <- struct{}{}:
		default:
		}
	}
}

// forwardTo sends every signal to ch instead of interrupting the run,
// until the returned function is called: while the app's Kamal runs in a
// hand-off, it decides what a signal does, and its exit status is ours.
// ch must be buffered or read until then.
func (in *interrupts) forwardTo(ch chan<- os.Signal) (stop func()) {
	in.mu.Lock()
	in.forward = ch
	in.mu.Unlock()
	return func() {
		in.mu.Lock()
		in.forward = nil
		in.mu.Unlock()
	}
}

// stop ends the handling: signals get their default action again.
func (in *interrupts) stop() {
	signal.Stop(in.ch)
	close(in.done)
	in.cancel(nil)
}

// signal returns the first signal received, or nil.
func (in *interrupts) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.received
}

// watchLock lets the second signal's message say whether the lock may be
// left behind.
func (in *interrupts) watchLock(held func() bool) {
	in.mu.Lock()
	in.lockHeld = held
	in.mu.Unlock()
}

func exitStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// describeInterrupt says what the run was doing when it was interrupted,
// in the user's terms: the command that was cut off (the first one, in
// host order; or a command the config runs while loading), else the
// position in the user's own script, else the kamal command the user ran
// (ran, "kamal build push"). A frame of the stock script is never named:
// it is nothing the user wrote.
func describeInterrupt(err error, ran string) string {
	var ci *sshkit.Interrupted
	if errors.As(err, &ci) {
		return ci.Error()
	}
	var ke *kamalerr.Error
	if errors.As(err, &ke) && ke.Class == kamalerr.ClassInterrupt {
		return ke.Message
	}
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		if fr, ok := scriptFrame(ee); ok && !strings.HasPrefix(fr.Pos.Filename(), "@kamal//") {
			return fmt.Sprintf("Interrupted in %s at %s", fr.Name, fr.Pos)
		}
	}
	if ran == "" {
		return "Interrupted"
	}
	return "Interrupted while running " + ran
}

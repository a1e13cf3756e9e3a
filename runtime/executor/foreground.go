package executor

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A local command runs in a process group of its own, so that an
// interrupt can end it with all its children. A group that is not the
// terminal's foreground group is stopped (SIGTTIN) when it reads the
// terminal: a $(...) in a secrets file asking for a password would hang.
// So a request may hand the terminal to the command's group while it
// runs (Request.Terminal); Ctrl-C then reaches the command's group, not
// kamal, and Run reports that as the user's interrupt (ErrTerminalInterrupt)
// after giving the terminal back.

// ForegroundTerminal returns f when it is a terminal whose foreground
// process group is this process's, else nil: the terminal a command may
// be handed (Request.Terminal).
func ForegroundTerminal(f *os.File) *os.File {
	if f == nil {
		return nil
	}
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	if err != nil || pgrp != syscall.Getpgrp() {
		return nil
	}
	return f
}

// foregroundMu serializes hand-offs: one command holds the terminal at a
// time.
var foregroundMu sync.Mutex

// reclaimTerminal makes this process's group tty's foreground group again.
// A background group changing it would get SIGTTOU: it is ignored
// meanwhile.
func reclaimTerminal(tty *os.File) {
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(int(tty.Fd()), unix.TIOCSPGRP, syscall.Getpgrp())
}

// InterruptSelf passes an interrupt a command took at the terminal on to
// this process as the SIGINT it would have got, and waits (a little) for
// the run's signal handling to cancel ctx, so that the run ends as
// interrupted.
func InterruptSelf(ctx context.Context) {
	_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
	case <-time.After(2 * time.Second):
	}
}

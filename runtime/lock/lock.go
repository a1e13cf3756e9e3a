// Package lock is the deploy lock of one run: a directory on
// the primary host, which mkdir creates atomically, so whoever creates it
// holds the lock. It prints Kamal's messages around it. The Starlark lock
// module and `kamal lock` are both this package.
package lock

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Lock is one run's view of the deploy lock. Its fields are set before
// first use; its methods are safe for concurrent use.
type Lock struct {
	Config  *config.Config
	Host    string // the primary host, where the lock lives
	Runner  *sshkit.Runner
	Log     *log.Logger
	Version string // the version the lock's details name
	// LockedBy names who takes the lock, in its details: git's
	// user.name, or "" for "Unknown".
	LockedBy func(context.Context) string
	// Wait is --lock-wait.
	Wait Wait

	mu   sync.Mutex
	held bool
}

// Wait makes Acquire poll a lock another run took automatically, every
// Interval seconds for up to Timeout seconds, as Kamal 2.12's
// --lock-wait (seconds as Thor's numeric options, printed as given).
type Wait struct {
	On                bool
	Timeout, Interval float64
}

// Check refuses a wait Kamal would mishandle: with On, an Interval of
// zero polls the servers without pause (Kamal 2.12 does) and a negative
// one crashes at the first retry (Ruby's sleep: "time interval must not
// be negative"). One clear line instead, before anything runs.
func (w Wait) Check() error {
	if w.On && !(w.Interval > 0) {
		return kamalerr.Errorf(kamalerr.ClassArgument, "--lock-wait-interval must be more than 0 seconds, got %s", num(w.Interval))
	}
	return nil
}

// Held reports whether this run holds the lock.
func (l *Lock) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

func (l *Lock) setHeld(v bool) {
	l.mu.Lock()
	l.held = v
	l.mu.Unlock()
}

// Inherit makes the run start as the lock holder: Kamal 2 does so when
// KAMAL_LOCK=true is in the environment (a hook of a locked run calling
// kamal), and neither takes nor releases the lock then.
func (l *Lock) Inherit() { l.setHeld(true) }

// Acquire takes the lock for the flow ("Acquiring the deploy lock...").
// When someone else holds it, it prints who and fails with
// Kamal::Cli::LockError; with Wait.On it polls a lock another run took
// automatically.
func (l *Lock) Acquire(ctx context.Context, message string) error {
	if l.Wait.On {
		return l.acquireWaiting(ctx, message)
	}
	l.Log.Say("Acquiring the deploy lock...", "magenta")
	return l.Take(ctx, message)
}

// Take runs the lock's mkdir once, as `kamal lock acquire` does: when
// someone else holds the lock it prints who, as Kamal's raise_if_locked,
// and fails with Kamal::Cli::LockError.
func (l *Lock) Take(ctx context.Context, message string) error {
	busy, err := l.try(ctx, message)
	if err != nil {
		return err
	}
	if !busy {
		return nil
	}
	l.Log.Say("Deploy lock already in place!", "red")
	if status, err := l.Status(ctx); err == nil {
		l.Log.Say(status, "")
	}
	return kamalerr.New(kamalerr.ClassLock, "Deploy lock found. Run 'kamal lock help' for more information")
}

// try runs the lock's mkdir once: busy is true when the lock is already
// there. On success the run holds the lock.
//
// An interrupt while the mkdir runs leaves it unknown whether the lock was
// made; the details are then read back (with a context that outlives the
// interrupt) and the lock released if they are this run's.
func (l *Lock) try(ctx context.Context, message string) (busy bool, err error) {
	lockedBy := "Unknown"
	if l.LockedBy != nil {
		if v := l.LockedBy(ctx); v != "" {
			lockedBy = v
		}
	}
	details := commands.LockDetails(lockedBy, commands.Now(), l.Version, message)
	_, err = l.Runner.Run(ctx, l.Host, commands.LockAcquire(l.Config, details), sshkit.Options{Level: log.Debug})
	if err != nil {
		if strings.Contains(err.Error(), "cannot create directory") {
			return true, nil
		}
		if ctx.Err() != nil {
			dctx, cancel := detached(ctx)
			defer cancel()
			if status, err := l.Status(dctx); err == nil && status == details {
				l.releaseReporting(dctx)
			}
		}
		return false, err
	}
	l.setHeld(true)
	return false, nil
}

// acquireWaiting is Kamal 2.12's acquire_lock_with_wait: poll every
// Interval seconds for up to Timeout seconds, but only when the lock was
// taken automatically (a lock taken with `kamal lock acquire` means "stay
// out").
func (l *Lock) acquireWaiting(ctx context.Context, message string) error {
	timeout, interval := l.Wait.Timeout, l.Wait.Interval
	deadline := time.Now().Add(seconds(timeout))
	l.Log.Say("Acquiring the deploy lock (waiting up to "+num(timeout)+"s)...", "magenta")
	shown := false
	for {
		busy, err := l.try(ctx, message)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
		if !shown {
			status, err := l.Status(ctx)
			if err != nil {
				return err
			}
			l.Log.Say("Deploy lock is held by:", "magenta")
			l.Log.Say(status, "")
			if !strings.Contains(status, commands.AutomaticLockMessage) {
				return kamalerr.New(kamalerr.ClassLock, "Deploy lock held manually, not waiting. Run 'kamal lock help' for more information")
			}
			shown = true
		}
		remaining := int64(time.Until(deadline).Seconds())
		if remaining <= 0 {
			l.Log.Say("Timed out after "+num(timeout)+"s waiting for the deploy lock", "red")
			return kamalerr.New(kamalerr.ClassLock, "Timed out waiting for deploy lock")
		}
		l.Log.Say("Retrying in "+num(interval)+"s ("+strconv.FormatInt(remaining, 10)+"s remaining)...", "magenta")
		t := time.NewTimer(min(seconds(interval), time.Duration(remaining)*time.Second))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// num prints a Thor numeric option as Ruby does: 900, 2.5.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// Release gives the lock back after the flow ("Releasing the deploy
// lock...").
func (l *Lock) Release(ctx context.Context) error {
	l.Log.Say("Releasing the deploy lock...", "magenta")
	return l.Remove(ctx)
}

// ReleaseAfter gives the lock back once the work it guarded has ended
// with err. After a failure (an interrupt included) it releases with a
// context that outlives the interrupt, reports a release that fails, and
// returns err; after success it returns Release's error.
func (l *Lock) ReleaseAfter(ctx context.Context, err error) error {
	if err == nil {
		return l.Release(ctx)
	}
	dctx, cancel := detached(ctx)
	defer cancel()
	l.releaseReporting(dctx)
	return err
}

func (l *Lock) releaseReporting(ctx context.Context) {
	if err := l.Release(ctx); err != nil {
		l.Log.Say("Error releasing the deploy lock: "+err.Error(), "red")
	}
}

// Remove runs the lock's removal (`kamal lock release` prints its own
// messages around it). A missing lock fails with "No such file or
// directory" (see Missing).
func (l *Lock) Remove(ctx context.Context) error {
	_, err := l.Runner.Run(ctx, l.Host, commands.LockRelease(l.Config), sshkit.Options{Level: log.Debug})
	if err == nil {
		l.setHeld(false)
	}
	return err
}

// Status returns the decoded details of the lock; it fails with "No such
// file or directory" (see Missing) when there is no lock.
func (l *Lock) Status(ctx context.Context) (string, error) {
	res, err := l.Runner.Run(ctx, l.Host, commands.LockStatus(l.Config), sshkit.Options{Level: log.Debug, Capture: true})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

// Missing reports whether err (of Status or Remove) says there is no lock.
func Missing(err error) bool {
	return err != nil && strings.Contains(err.Error(), "No such file or directory")
}

// detached returns a context that keeps parent's values but not its
// cancellation, bounded by a short timeout: for clean-up that must run
// after an interrupt.
func detached(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
}

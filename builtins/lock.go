package builtins

import (
	"strconv"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

var lockModule = Builtin{
	Sig: "lock",
	Doc: "The deploy lock: a directory on the primary host, which mkdir creates atomically, so whoever creates it holds the lock.",
	Members: []Builtin{
		{Sig: "acquire(message=\"Automatic deploy lock\")", Fn: lockAcquire,
			Doc: "Takes the deploy lock on the primary host. When someone holds it, prints who and raises Kamal::Cli::LockError."},
		{Sig: "release()", Fn: lockRelease, Doc: "Gives the deploy lock back."},
		{Sig: "status()", Fn: lockStatusBuiltin, Doc: "The lock's details as text, or None when nobody holds it."},
		{Sig: "held()", Fn: lockHeldBuiltin, Doc: "Whether this run holds the deploy lock."},
		{Sig: "around(fn, message=\"Automatic deploy lock\")", Fn: lockAround,
			Doc: "Holds the deploy lock while fn() runs and releases it afterwards, also when fn fails (the failure is raised again). When the lock is already held, just calls fn."},
	},
}

const automaticLock = "Automatic deploy lock"

// AcquireLock takes the deploy lock on the primary host for this run.
// When someone else holds it, it prints who and raises
// Kamal::Cli::LockError; with --lock-wait it polls a lock another run took
// automatically, as Kamal 2.12 does.
func (e *Env) AcquireLock(thread *starlark.Thread, message string) error {
	if e.Flags.LockWait {
		return e.acquireLockWaiting(thread, message)
	}
	e.Log.Say("Acquiring the deploy lock...", "magenta")
	busy, err := e.TryLock(thread, message)
	if err != nil {
		return err
	}
	if busy {
		return e.lockFound(thread)
	}
	return nil
}

// lockFound reports a lock held by someone else the way Kamal's
// raise_if_locked does.
func (e *Env) lockFound(thread *starlark.Thread) error {
	e.Log.Say("Deploy lock already in place!", "red")
	if status, err := e.LockStatus(thread); err == nil {
		e.Log.Say(status, "")
	}
	return NewError("Kamal::Cli::LockError", "Deploy lock found. Run 'kamal lock help' for more information")
}

// TryLock runs the lock's mkdir once on the primary host: busy is true
// when the lock is already there. On success the run holds the lock.
//
// An interrupt while the mkdir runs leaves it unknown whether the lock was
// made; the details are then read back (with a context that outlives the
// interrupt) and the lock removed if they are this run's.
func (e *Env) TryLock(thread *starlark.Thread, message string) (busy bool, err error) {
	lockedBy := "Unknown"
	if v, err := e.Git("config", "user.name"); err == nil && v != "" {
		lockedBy = v
	}
	details := commands.LockDetails(lockedBy, timestamp(), e.Version, message)
	host := e.Selection.Primary
	ctx := Context(thread)
	_, err = e.run(thread, ctx, host, commands.LockAcquire(e.Config, details), sshkit.Options{Level: log.Debug})
	if err != nil {
		if strings.Contains(err.Error(), "cannot create directory") {
			return true, nil
		}
		if ctx.Err() != nil {
			e.undoInterruptedLock(thread, details)
		}
		return false, err
	}
	e.setLockHeld(true)
	return false, nil
}

func (e *Env) undoInterruptedLock(thread *starlark.Thread, details string) {
	rt := NewThread(thread, thread.Name+" (check lock)")
	ctx, cancel := detached(Context(thread))
	defer cancel()
	SetContext(rt, ctx)
	if status, err := e.LockStatus(rt); err == nil && status == details {
		if err := e.ReleaseLock(rt); err != nil {
			e.Log.Say("Error releasing the deploy lock: "+err.Error(), "red")
		}
	}
}

// acquireLockWaiting is Kamal 2.12's acquire_lock_with_wait: poll every
// LockWaitInterval seconds for up to LockWaitTimeout seconds, but only
// when the lock was taken automatically (a lock taken with `kamal lock
// acquire` means "stay out").
func (e *Env) acquireLockWaiting(thread *starlark.Thread, message string) error {
	timeout, interval := e.Flags.LockWaitTimeout, e.Flags.LockWaitInterval
	deadline := time.Now().Add(seconds(timeout))
	e.Log.Say("Acquiring the deploy lock (waiting up to "+num(timeout)+"s)...", "magenta")
	shown := false
	for {
		busy, err := e.TryLock(thread, message)
		if err != nil {
			return err
		}
		if !busy {
			return nil
		}
		if !shown {
			status, err := e.LockStatus(thread)
			if err != nil {
				return err
			}
			e.Log.Say("Deploy lock is held by:", "magenta")
			e.Log.Say(status, "")
			if !strings.Contains(status, automaticLock) {
				return NewError("Kamal::Cli::LockError", "Deploy lock held manually, not waiting. Run 'kamal lock help' for more information")
			}
			shown = true
		}
		remaining := int64(time.Until(deadline).Seconds())
		if remaining <= 0 {
			e.Log.Say("Timed out after "+num(timeout)+"s waiting for the deploy lock", "red")
			return NewError("Kamal::Cli::LockError", "Timed out waiting for deploy lock")
		}
		e.Log.Say("Retrying in "+num(interval)+"s ("+strconv.FormatInt(remaining, 10)+"s remaining)...", "magenta")
		t := time.NewTimer(min(seconds(interval), time.Duration(remaining)*time.Second))
		select {
		case <-t.C:
		case <-Context(thread).Done():
			t.Stop()
			return Context(thread).Err()
		}
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// num prints a Thor numeric option as Ruby does: 900, 2.5.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// InheritLock makes the run start as the lock holder: Kamal 2 does so when
// KAMAL_LOCK=true is in the environment (a hook of a locked run calling
// kamal), and neither takes nor releases the lock then.
func (e *Env) InheritLock() { e.setLockHeld(true) }

// ReleaseLock gives the deploy lock back.
func (e *Env) ReleaseLock(thread *starlark.Thread) error {
	e.Log.Say("Releasing the deploy lock...", "magenta")
	return e.RemoveLock(thread)
}

// RemoveLock runs the lock's removal on the primary host (`kamal lock
// release` prints its own messages around it). A missing lock fails with
// "No such file or directory".
func (e *Env) RemoveLock(thread *starlark.Thread) error {
	_, err := e.run(thread, Context(thread), e.Selection.Primary, commands.LockRelease(e.Config), sshkit.Options{Level: log.Debug})
	if err == nil {
		e.setLockHeld(false)
	}
	return err
}

// LockStatus returns the decoded details of the lock; it fails with "No
// such file or directory" when there is no lock.
func (e *Env) LockStatus(thread *starlark.Thread) (string, error) {
	return e.lockStatus(thread)
}

func (e *Env) lockStatus(thread *starlark.Thread) (string, error) {
	res, err := e.run(thread, Context(thread), e.Selection.Primary, commands.LockStatus(e.Config), sshkit.Options{Level: log.Debug, Capture: true})
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Stdout), nil
}

func lockAcquire(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	message := automaticLock
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "message?", &message); err != nil {
		return nil, err
	}
	return starlark.None, EnvOf(thread).AcquireLock(thread, message)
}

func lockRelease(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.None, EnvOf(thread).ReleaseLock(thread)
}

func lockStatusBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	s, err := EnvOf(thread).lockStatus(thread)
	if err != nil {
		if strings.Contains(err.Error(), "No such file or directory") {
			return starlark.None, nil
		}
		return nil, err
	}
	return starlark.String(s), nil
}

func lockHeldBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Bool(EnvOf(thread).LockHeld()), nil
}

func lockAround(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	message := automaticLock
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "message?", &message); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	if e.LockHeld() {
		return starlark.Call(thread, fn, nil, nil)
	}
	if err := e.AcquireLock(thread, message); err != nil {
		return nil, err
	}
	v, err := starlark.Call(thread, fn, nil, nil)
	if err != nil {
		// Release even when the run was interrupted: use a thread whose
		// context is not the cancelled one.
		rt := NewThread(thread, thread.Name+" (release lock)")
		ctx, cancel := detached(Context(thread))
		defer cancel()
		SetContext(rt, ctx)
		if rerr := e.ReleaseLock(rt); rerr != nil {
			e.Log.Say("Error releasing the deploy lock: "+rerr.Error(), "red")
		}
		return nil, err
	}
	if err := e.ReleaseLock(thread); err != nil {
		return nil, err
	}
	return v, nil
}

package builtins

import (
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// The deploy lock is a directory on the primary host (spec §10): mkdir is
// atomic, so whoever creates it holds the lock.

const automaticLock = "Automatic deploy lock"

// AcquireLock takes the deploy lock on the primary host. When someone else
// holds it, it prints who and raises Kamal::Cli::LockError.
func (e *Env) AcquireLock(thread *starlark.Thread, message string) error {
	e.Log.Say("Acquiring the deploy lock...", "magenta")
	lockedBy := "Unknown"
	if v, err := e.Git("config", "user.name"); err == nil && v != "" {
		lockedBy = v
	}
	details := commands.LockDetails(lockedBy, time.Now().UTC().Format("2006-01-02T15:04:05Z"), e.Version, message)
	host := e.Selection.Primary
	_, err := e.Runner.Run(Context(thread), host, commands.LockAcquire(e.Config, details), sshkit.Options{Level: log.Debug})
	if err != nil {
		if strings.Contains(err.Error(), "cannot create directory") {
			e.Log.Say("Deploy lock already in place!", "red")
			if status, serr := e.lockStatus(thread); serr == nil {
				e.Log.Say(status, "")
			}
			return NewError("Kamal::Cli::LockError", "Deploy lock found. Run 'kamal lock help' for more information")
		}
		return err
	}
	e.setLockHeld(true)
	return nil
}

// ReleaseLock gives the deploy lock back.
func (e *Env) ReleaseLock(thread *starlark.Thread) error {
	e.Log.Say("Releasing the deploy lock...", "magenta")
	_, err := e.Runner.Run(Context(thread), e.Selection.Primary, commands.LockRelease(e.Config), sshkit.Options{Level: log.Debug})
	if err == nil {
		e.setLockHeld(false)
	}
	return err
}

func (e *Env) lockStatus(thread *starlark.Thread) (string, error) {
	res, err := e.Runner.Run(Context(thread), e.Selection.Primary, commands.LockStatus(e.Config), sshkit.Options{Level: log.Debug, Capture: true})
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

// lock.status() returns the lock's details, or None when there is no lock.
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

// lock.around(fn, message="Automatic deploy lock") holds the lock while fn
// runs and releases it afterwards, also when fn fails (the failure is then
// raised again). When the run already holds the lock, it just calls fn.
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

// Lock is the "lock" module: the deploy lock on the primary host.
var Lock = &starlarkstruct.Module{Name: "lock", Members: starlark.StringDict{
	"acquire": starlark.NewBuiltin("lock.acquire", lockAcquire),
	"release": starlark.NewBuiltin("lock.release", lockRelease),
	"status":  starlark.NewBuiltin("lock.status", lockStatusBuiltin),
	"held":    starlark.NewBuiltin("lock.held", lockHeldBuiltin),
	"around":  starlark.NewBuiltin("lock.around", lockAround),
}}

package builtins

import (
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/shell"
)

var lockModule = Builtin{
	Sig: "lock",
	Doc: "The deploy lock: a directory on the primary host, which mkdir creates atomically, so whoever creates it holds the lock.",
	Members: []Builtin{
		{Sig: "acquire(message=\"Automatic deploy lock\")", Fn: lockAcquire, Waits: true,
			Doc: "Takes the deploy lock on the primary host. When someone holds it, prints who and raises Kamal::Cli::LockError."},
		{Sig: "release()", Fn: lockRelease, Waits: true, Doc: "Gives the deploy lock back."},
		{Sig: "status()", Fn: lockStatus, Waits: true, Doc: "The lock's details as text, or None when nobody holds it."},
		{Sig: "take(message)", Fn: lockTake, Waits: true,
			Doc: "Runs the lock's mkdir once, as `kamal lock acquire` does: no \"Acquiring...\" line and no --lock-wait polling. When someone holds the lock, prints who and raises Kamal::Cli::LockError."},
		{Sig: "remove()", Fn: lockRemove, Waits: true,
			Doc: "Removes the lock, as `kamal lock release` does: no \"Releasing...\" line. Returns True, or False when there was no lock."},
		{Sig: "mkdir()", Fn: noArgs(func(_ *starlark.Thread, e *Env) (*shell.Command, error) { return commands.MkdirLocks(e.Config), nil }),
			Doc: "The command creating the directory the lock lives in, to run on the primary host: Kamal 1's RUN_DIRECTORY/locks; an empty command (which runs nothing) for Kamal 2, whose lock lives in the run directory."},
		{Sig: "held()", Fn: lockHeld, Doc: "Whether this run holds the deploy lock."},
		{Sig: "around(fn, message=\"Automatic deploy lock\")", Fn: lockAround, Waits: true,
			Doc: "Holds the deploy lock while fn() runs and releases it afterwards, also when fn fails (the failure is raised again). When the lock is already held, just calls fn."},
	},
}

// The lock module binds runtime/lock, the run's Env.Lock.

func lockAcquire(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	message := commands.AutomaticLockMessage
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "message?", &message); err != nil {
		return nil, err
	}
	return starlark.None, EnvOf(thread).Lock.Acquire(Context(thread), message)
}

func lockRelease(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.None, EnvOf(thread).Lock.Release(Context(thread))
}

func lockStatus(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	s, err := EnvOf(thread).Lock.Status(Context(thread))
	switch {
	case lock.Missing(err):
		return starlark.None, nil
	case err != nil:
		return nil, err
	}
	return starlark.String(s), nil
}

func lockTake(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var message string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "message", &message); err != nil {
		return nil, err
	}
	return starlark.None, EnvOf(thread).Lock.Take(Context(thread), message)
}

func lockRemove(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	err := EnvOf(thread).Lock.Remove(Context(thread))
	switch {
	case lock.Missing(err):
		return starlark.False, nil
	case err != nil:
		return nil, err
	}
	return starlark.True, nil
}

func lockHeld(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Bool(EnvOf(thread).Lock.Held()), nil
}

func lockAround(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	message := commands.AutomaticLockMessage
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "message?", &message); err != nil {
		return nil, err
	}
	l, ctx := EnvOf(thread).Lock, Context(thread)
	if l.Held() {
		return CallBack(thread, fn, nil, nil)
	}
	if err := l.Acquire(ctx, message); err != nil {
		return nil, err
	}
	v, err := CallBack(thread, fn, nil, nil)
	if err = l.ReleaseAfter(ctx, err); err != nil {
		return nil, err
	}
	return v, nil
}

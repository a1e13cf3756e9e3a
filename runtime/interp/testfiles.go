package interp

import (
	"context"
	"path/filepath"

	"go.starlark.net/starlark"
)

// Predeclare adds names to what every file loaded from now on sees (a
// test file's assert, ran and answer), on top of the builtins.
func (in *Interp) Predeclare(names starlark.StringDict) {
	for k, v := range names {
		in.predeclared[k] = v
	}
}

// LoadFile loads the file at path, named by the user (so it may lie
// outside the app), and returns its globals without making any of its
// functions a step or a subcommand: a test file's.
func (in *Interp) LoadFile(ctx context.Context, path string) (starlark.StringDict, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	in.outsideOK[abs] = true
	return in.load(in.thread(ctx, "load"), abs)
}

// CallFunc calls fn with no arguments on a new thread named name, as Call
// calls a subcommand (cancelled when ctx ends, stopped by the debugger);
// prepare, when not nil, sets the thread up first.
func (in *Interp) CallFunc(ctx context.Context, name string, fn starlark.Callable, prepare func(*starlark.Thread)) (starlark.Value, error) {
	t := in.thread(ctx, name)
	if prepare != nil {
		prepare(t)
	}
	if in.debug != nil {
		in.debug.Attach(nil, t)
	}
	stop := context.AfterFunc(ctx, func() { t.Cancel(ctx.Err().Error()) })
	defer stop()
	return starlark.Call(t, fn, nil, nil)
}

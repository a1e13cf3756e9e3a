package builtins

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.starlark.net/starlark"
)

var localModule = Builtin{
	Sig: "local",
	Doc: "Commands on this machine, logged as SSHKit logs them.",
	Members: []Builtin{
		{Sig: "run(cmd, level=\"info\", raise_on_error=True, rescue=False, force=False, dir=None, env=None, stdin=None, capture=False)", Fn: localRun, Waits: true,
			Doc: "Runs cmd on this machine and logs it as SSHKit does (Running, Command, output, Finished). Returns struct(ok, status, stdout, stderr, failure), failure being SSHKit's three-line message when the command failed (\"\" otherwise); a failure raises SSHKit::Command::Failed unless raise_on_error=False (logged as failed) or rescue=True (returned silently, as when Kamal rescues). force shows the command's output whatever the verbosity, as for builds. dir defaults to the app directory; env (strings to strings) is added to the command's environment; stdin is fed to its input. stdout holds the output's tail, all of it with capture=True. A string cmd is run as one whole shell script."},
		{Sig: "capture(cmd, level=\"debug\", raise_on_error=True, rescue=False, force=False, dir=None, env=None, stdin=None)", Fn: localCapture, Waits: true,
			Doc: "Runs cmd like local.run, logged at DEBUG by default, and returns its stripped standard output, always a string (with rescue=True also when the command failed; use local.run(..., rescue=True, capture=True) to see the failure)."},
		{Sig: "exists(path)", Fn: localExists,
			Doc: "Whether a file or directory exists at path (relative to the app directory). Runs no command."},
	},
}

func localRun(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return run(thread, b, args, kwargs, false, false)
}

func localCapture(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return run(thread, b, args, kwargs, false, true)
}

// localExists logs nothing.
func localExists(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(p) {
		if e := EnvOf(thread); e != nil {
			p = filepath.Join(e.Dir, p)
		}
	}
	_, err := os.Stat(p)
	switch {
	case err == nil:
		return starlark.True, nil
	case errors.Is(err, fs.ErrNotExist):
		return starlark.False, nil
	}
	return nil, fmt.Errorf("%s: %w", b.Name(), err)
}

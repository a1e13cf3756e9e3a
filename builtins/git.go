package builtins

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/commands"
)

var gitModule = Builtin{
	Sig: "git",
	Doc: "The app's git repository: queries, run silently (Kamal never logs them), cached for the run and still run by a dry run, since they only read; and the paths and commands of a Kamal 2 clone build.",
	Members: []Builtin{
		{Sig: "revision()", Waits: true, Doc: "git rev-parse HEAD of the app.", Fn: gitQuery("rev-parse", "HEAD")},
		{Sig: "branch()", Waits: true, Doc: "The current branch of the app (git rev-parse --abbrev-ref HEAD).", Fn: gitQuery("rev-parse", "--abbrev-ref", "HEAD")},
		{Sig: "root()", Waits: true, Doc: "The top directory of the app's git repository.", Fn: gitQuery("rev-parse", "--show-toplevel")},
		{Sig: "uncommitted()", Waits: true, Doc: "git status --porcelain of the app (empty when clean).", Fn: gitQuery("status", "--porcelain")},
		{Sig: "user_name()", Waits: true, Doc: "git config user.name, or \"Unknown\".", Fn: gitUserName},
		{Sig: "clone()", Fn: gitClone, Waits: true,
			Doc: "A Kamal 2 clone build: struct(root, clone_dir, build_dir, clone, reset, status, revision) with the paths and the commands that clone, reset and check the clone. Creates the clone directory."},
		{Sig: "remove_clone()", Fn: gitRemoveClone, Waits: true,
			Doc: "Deletes the clone directory of a clone build and creates it again empty, silently (before Kamal's one retry of a failed clone)."},
		{Sig: "modified_files()", Waits: true, Doc: "git ls-files --modified of the app, as a list.", Fn: gitFiles("ls-files", "--modified")},
		{Sig: "untracked_files()", Waits: true, Doc: "git ls-files --others of the app, as a list.", Fn: gitFiles("ls-files", "--others")},
	},
}

func gitQuery(args ...string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
			return nil, err
		}
		v, err := EnvOf(thread).Git(Context(thread), args...)
		if err != nil {
			return nil, err
		}
		return starlark.String(v), nil
	}
}

func gitUserName(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	v, err := EnvOf(thread).Git(Context(thread), "config", "user.name")
	if err != nil || v == "" {
		return starlark.String("Unknown"), nil
	}
	return starlark.String(v), nil
}

// gitClone is the clone build's first step; Kamal creates the clone directory
// without logging it.
func gitClone(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	root, err := e.Git(Context(thread), "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s: not a git repository: %w", b.Name(), err)
	}
	revision, err := e.Git(Context(thread), "rev-parse", "HEAD")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	cwd, err := filepath.Abs(e.Dir)
	if err != nil {
		return nil, err
	}
	tmp := os.TempDir()
	cloneDir := commands.CloneDir(e.Config, cwd, tmp)
	buildDir := commands.BuildDir(e.Config, cwd, tmp, root)
	if !e.Flags.DryRun {
		if err := os.MkdirAll(cloneDir, 0o755); err != nil {
			return nil, err
		}
	}
	var reset []starlark.Value
	for _, c := range commands.CloneResetSteps(e.Config, buildDir, root, revision) {
		reset = append(reset, Cmd{c})
	}
	return starlarkstruct.FromStringDict(starlark.String("clone"), starlark.StringDict{
		"root":      starlark.String(root),
		"clone_dir": starlark.String(cloneDir),
		"build_dir": starlark.String(buildDir),
		"clone":     Cmd{commands.CloneRepo(e.Config, cloneDir, root)},
		"reset":     starlark.NewList(reset),
		"status":    Cmd{commands.CloneStatus(e.Config, buildDir)},
		"revision":  Cmd{commands.CloneRevision(e.Config, buildDir)},
	}), nil
}

// gitFiles runs `git args...` and returns its output lines.
func gitFiles(args ...string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
			return nil, err
		}
		out, err := EnvOf(thread).Git(Context(thread), args...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		var files []string
		for _, l := range strings.Split(out, "\n") {
			if l != "" {
				files = append(files, l)
			}
		}
		return strings_(files), nil
	}
}

// gitRemoveClone deletes the local clone directory (Kamal removes it when
// resetting an existing clone fails, then clones again).
func gitRemoveClone(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	cwd, err := filepath.Abs(e.Dir)
	if err != nil {
		return nil, err
	}
	dir := commands.CloneDir(e.Config, cwd, os.TempDir())
	if e.Flags.DryRun {
		return starlark.None, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return starlark.None, os.MkdirAll(dir, 0o755)
}

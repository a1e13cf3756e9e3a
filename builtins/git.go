package builtins

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/commands"
)

// Git queries run silently (Kamal never logs them) and are the only
// commands a dry run still executes: they only read.

// Git runs `git args...` in the app directory and returns its trimmed
// output; results are cached for the run, as Kamal computes them once.
func (e *Env) Git(args ...string) (string, error) {
	key := strings.Join(args, "\x00")
	e.mu.Lock()
	if v, ok := e.gitCache[key]; ok {
		e.mu.Unlock()
		return v, nil
	}
	e.mu.Unlock()
	c := exec.Command("git", args...)
	c.Dir = e.Dir
	out, err := c.Output()
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(out))
	e.mu.Lock()
	if e.gitCache == nil {
		e.gitCache = map[string]string{}
	}
	e.gitCache[key] = v
	e.mu.Unlock()
	return v, nil
}

// Performer is who the audit log and hooks name: git's user.email, else
// the local user name (`whoami`). It is worked out once per run (each hook
// and audit line asks for it).
func (e *Env) Performer() string {
	const key = "\x00performer"
	e.mu.Lock()
	v, ok := e.gitCache[key]
	e.mu.Unlock()
	if ok {
		return v
	}
	v = "Unknown"
	if email, err := e.Git("config", "user.email"); err == nil && email != "" {
		v = email
	} else if out, err := exec.Command("whoami").Output(); err == nil {
		v = strings.TrimSpace(string(out))
	}
	e.mu.Lock()
	if e.gitCache == nil {
		e.gitCache = map[string]string{}
	}
	e.gitCache[key] = v
	e.mu.Unlock()
	return v
}

func gitQuery(args ...string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
			return nil, err
		}
		v, err := EnvOf(thread).Git(args...)
		if err != nil {
			return nil, err
		}
		return starlark.String(v), nil
	}
}

func gitUserName(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	v, err := EnvOf(thread).Git("config", "user.name")
	if err != nil || v == "" {
		return starlark.String("Unknown"), nil
	}
	return starlark.String(v), nil
}

// Git is the "git" module: read-only queries of the app's repository.
var Git = &starlarkstruct.Module{Name: "git", Members: starlark.StringDict{
	"revision":    starlark.NewBuiltin("git.revision", gitQuery("rev-parse", "HEAD")),
	"branch":      starlark.NewBuiltin("git.branch", gitQuery("rev-parse", "--abbrev-ref", "HEAD")),
	"root":        starlark.NewBuiltin("git.root", gitQuery("rev-parse", "--show-toplevel")),
	"uncommitted": starlark.NewBuiltin("git.uncommitted", gitQuery("status", "--porcelain")),
	"user_name":   starlark.NewBuiltin("git.user_name", gitUserName),
}}

// git.clone() describes a clone build (spec §7) as
// struct(root, clone_dir, build_dir, clone, reset, status, revision): the
// paths and the commands that clone, reset and check the clone. It creates
// the clone directory, which Kamal does without logging it.
func gitClone(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	root, err := e.Git("rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("%s: not a git repository: %w", b.Name(), err)
	}
	revision, err := e.Git("rev-parse", "HEAD")
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

func init() {
	Git.Members["clone"] = starlark.NewBuiltin("git.clone", gitClone)
}

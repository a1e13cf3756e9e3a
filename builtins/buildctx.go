package builtins

import (
	"fmt"
	"github.com/kamal-go/kamal/runtime/sshurl"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
)

// Builtins for the build context and the builder host: what a dev build
// would send, the clone's reset, the remote builder's SSH address and
// Kamal 1's expected context hosts.

// gitFiles runs `git args...` and returns its output lines.
func gitFiles(args ...string) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
			return nil, err
		}
		out, err := EnvOf(thread).Git(args...)
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

// docker.included_files() lists the files (relative, sorted) a build with
// the app directory as its context would send to Docker, honouring
// .dockerignore. Kamal 2's dev warns about the uncommitted and untracked
// ones among them.
func dockerIncludedFiles(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	dir := EnvOf(thread).Dir
	if dir == "" {
		dir = "."
	}
	files, err := contextFiles(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return strings_(files), nil
}

// git.remove_clone() deletes the clone directory of a clone build and
// creates it again empty, silently, as Kamal does before retrying a clone
// that failed to prepare (spec §7 step 4).
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

// builder.remote_ssh() is the remote builder's ssh:// URL (Kamal 2
// builder.remote, Kamal 1 builder.remote.host), or None when there is no
// remote builder or it is not reached over SSH. ssh.run accepts the URL as
// a host: it connects with the URL's user and port and logs the host name.
func builderRemoteSSH(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	c := EnvOf(thread).Config
	remote := c.Builder.Remote
	if c.Generation == config.Kamal1 {
		remote = ""
		if h := c.Builder.RemoteHost; h != nil {
			remote = h.Host
		}
	}
	if !sshurl.Is(remote) {
		return starlark.None, nil
	}
	return starlark.String(remote), nil
}

// builder.context_hosts() is the output Kamal 1's context-hosts probe
// (builder.inspect()) must print, one list item per line.
func builderContextHosts(thread *starlark.Thread, b *starlark.Builtin, a starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), a, kw, 0); err != nil {
		return nil, err
	}
	return strings_(EnvOf(thread).Builder.ContextHosts()), nil
}

func init() {
	Git.Members["modified_files"] = starlark.NewBuiltin("git.modified_files", gitFiles("ls-files", "--modified"))
	Git.Members["untracked_files"] = starlark.NewBuiltin("git.untracked_files", gitFiles("ls-files", "--others"))
	Git.Members["remove_clone"] = starlark.NewBuiltin("git.remove_clone", gitRemoveClone)
	Docker.Members["included_files"] = starlark.NewBuiltin("docker.included_files", dockerIncludedFiles)
	BuilderModule.Members["remote_ssh"] = starlark.NewBuiltin("builder.remote_ssh", builderRemoteSSH)
	BuilderModule.Members["context_hosts"] = starlark.NewBuiltin("builder.context_hosts", builderContextHosts)
}

package builtins

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	dockerssh "github.com/docker/cli/cli/connhelper/ssh"
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshurl"
)

// OpenSSHCheckTimeout bounds ssh.check_openssh's connection, as docker's
// own ConnectTimeout for ssh:// hosts.
var OpenSSHCheckTimeout = 30 * time.Second

// ssh.check_openssh(url) connects to an ssh:// URL the way docker will for
// an ssh:// docker context: the OpenSSH client (ssh on PATH, reading the
// user's ~/.ssh/config and agent), with the URL's user, host and port
// (docker/cli's connhelper builds the arguments), here in batch mode so
// that nothing prompts, running `true`. It logs nothing. When OpenSSH
// cannot connect it raises Kamal::Cli::Build::BuildError with one line
// saying so and what to give OpenSSH; kamal's own connection (ssh.keys,
// key_data) is no help to docker. A dry run checks nothing.
func sshCheckOpenSSH(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var url string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &url); err != nil {
		return nil, err
	}
	if _, err := sshurl.Parse(url); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if EnvOf(thread).Runner.DryRun {
		return starlark.None, nil
	}
	sp, err := dockerssh.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	argv := append([]string{"-o", "BatchMode=yes", "-o", fmt.Sprintf("ConnectTimeout=%d", int(OpenSSHCheckTimeout.Seconds())), "-T"}, sp.Args("true")...)
	ctx, cancel := context.WithTimeout(Context(thread), OpenSSHCheckTimeout+5*time.Second)
	defer cancel()
	words := make([]string, 0, len(argv)+1)
	for _, w := range append([]string{"ssh"}, argv...) {
		if !plainWord.MatchString(w) {
			w = shell.Escape(w)
		}
		words = append(words, w)
	}
	var stderr bytes.Buffer
	// Through the local transport, unlogged: Kamal logs no such command.
	status, err := EnvOf(thread).Runner.Local.Run(ctx, "", executor.Request{Script: strings.Join(words, " "), Stdout: io.Discard, Stderr: &stderr})
	if err != nil || status != 0 {
		why := lastLine(stderr.String())
		if why == "" && err != nil {
			why = err.Error()
		} else if why == "" {
			why = fmt.Sprintf("exit status %d", status)
		}
		return nil, NewError("Kamal::Cli::Build::BuildError", fmt.Sprintf(
			"docker reaches the remote builder %s through OpenSSH, which cannot connect (ssh %s: %s): give OpenSSH the key with ssh-agent (ssh-add) or a Host entry with User, Port and IdentityFile in ~/.ssh/config",
			url, strings.Join(argv, " "), why))
	}
	return starlark.None, nil
}

// plainWord needs no quoting for sh.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

func init() {
	SSH.Members["check_openssh"] = starlark.NewBuiltin("ssh.check_openssh", sshCheckOpenSSH)
}

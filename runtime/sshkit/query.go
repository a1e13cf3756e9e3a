package sshkit

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Query runs argv on this machine in dir ("" for the current directory)
// through the local transport and returns its standard output, trimmed:
// for the facts Kamal reads with Ruby's backticks (git queries, whoami,
// docker's architecture). It logs nothing, as Kamal logs none of them,
// and runs in a dry run too, since it only reads; it goes through the
// transport for the run's context (cancellation, the process group a
// second Ctrl-C kills) and its refusal rules (executor.Refuse). A
// non-zero exit is an error naming the command, its status and its
// standard error. A nil Runner, or one without a local transport, runs
// through a plain executor.Local.
func (r *Runner) Query(ctx context.Context, dir string, argv ...string) (string, error) {
	var local executor.Transport = &executor.Local{}
	if r != nil && r.Local != nil {
		local = r.Local
	}
	words := make([]string, len(argv))
	for i, w := range argv {
		words[i] = shell.Quote(w)
	}
	script := strings.Join(words, " ")
	var stdout, stderr bytes.Buffer
	status, err := local.Run(ctx, "", executor.Request{Script: script, Dir: dir, Query: true, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return "", fmt.Errorf("%s: %w", script, err)
	}
	if status != 0 {
		return "", fmt.Errorf("%s: exit status %d: %s", script, status, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

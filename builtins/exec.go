package builtins

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// cmdArg accepts a cmd, or a string taken as one whole shell script (which
// SSHKit runs verbatim, without the /usr/bin/env mapping).
type cmdArg struct{ c *shell.Command }

func (a *cmdArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case Cmd:
		a.c = v.C
	case starlark.String:
		a.c = shell.New(string(v))
	default:
		return fmt.Errorf("got %s, want cmd or string", v.Type())
	}
	return nil
}

// levelArg accepts "debug", "info", "warn" or "error".
type levelArg struct{ l log.Level }

func (a *levelArg) Unpack(v starlark.Value) error {
	s, ok := starlark.AsString(v)
	if !ok {
		return fmt.Errorf("got %s, want string", v.Type())
	}
	l, err := log.ParseLevel(s)
	a.l = l
	return err
}

// resultValue is a command's result as a script sees it. failure is
// SSHKit's message for the failed command c (the text Kamal matches on and
// raises), or "" when it succeeded.
func resultValue(r sshkit.Result, c *shell.Command) starlark.Value {
	failure := ""
	if !r.OK() {
		failure = (&sshkit.CommandFailed{Name: c.Name(), Status: r.Status, Stdout: r.Stdout, Stderr: r.Stderr}).Error()
	}
	return starlarkstruct.FromStringDict(starlark.String("result"), starlark.StringDict{
		"ok":      starlark.Bool(r.OK()),
		"status":  starlark.MakeInt(r.Status),
		"stdout":  starlark.String(r.Stdout),
		"stderr":  starlark.String(r.Stderr),
		"failure": starlark.String(failure),
	})
}

// run is the shared body of local.run/capture and ssh.run/capture.
func run(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, remote, capture bool) (starlark.Value, error) {
	e := EnvOf(thread)
	var (
		host     string
		c        cmdArg
		level    = levelArg{log.Info}
		raise    = true
		rescue   bool
		force    bool
		dir      string
		envDict  *starlark.Dict
		stdin    string
		hasStdin bool
		keepAll  bool // capture=True: all of stdout in the result
	)
	if capture {
		level.l = log.Debug
	}
	var stdinV starlark.Value = starlark.None
	pairs := []any{"cmd", &c, "level?", &level, "raise_on_error?", &raise, "rescue?", &rescue}
	if remote {
		pairs = append([]any{"host", &host}, pairs...)
	} else {
		pairs = append(pairs, "force?", &force, "dir??", &dir, "env??", &envDict)
	}
	pairs = append(pairs, "stdin??", &stdinV)
	if !capture {
		pairs = append(pairs, "capture?", &keepAll)
	}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return nil, err
	}
	if stdinV != starlark.None {
		s, ok := starlark.AsString(stdinV)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter stdin: got %s, want string or None", b.Name(), stdinV.Type())
		}
		stdin, hasStdin = s, true
	}
	env, err := envVars(b.Name(), envDict)
	if err != nil {
		return nil, err
	}
	if c.c.Empty() {
		return resultValue(sshkit.Result{}, c.c), nil
	}
	o := sshkit.Options{Level: level.l, Force: force, NoRaise: !raise, Rescue: rescue, Capture: capture || keepAll}
	if !remote {
		o.Dir = dir
		if o.Dir == "" {
			o.Dir = e.Dir
		}
		for _, v := range env {
			o.Env = append(o.Env, v.Key+"="+v.Value)
		}
	}
	if hasStdin {
		o.Stdin = strings.NewReader(stdin)
	}
	res, err := e.Runner.Run(Context(thread), host, c.c, o)
	if err != nil {
		return nil, err
	}
	if capture {
		return starlark.String(strings.TrimSpace(res.Stdout)), nil
	}
	return resultValue(res, c.c), nil
}

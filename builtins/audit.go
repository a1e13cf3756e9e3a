package builtins

import (
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
)

var auditGlobal = Builtin{
	Sig:   "audit(message)",
	Doc:   "The command appending \"[time] [performer] MESSAGE\" to the service's audit log on a host (run it with ssh.run, level=\"debug\").",
	Fn:    auditBuiltin,
	Waits: true, // the performer is a git query (or whoami), once per run
}

func auditBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var message string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &message); err != nil {
		return nil, err
	}
	e := EnvOf(thread)
	line := commands.AuditLine(e.Config, e.Performer(Context(thread)), commands.Now(), message)
	return Cmd{commands.Audit(e.Config, line)}, nil
}

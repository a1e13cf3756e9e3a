package builtins

import (
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

var errorGlobal = Builtin{
	Sig: "error(class, message)",
	Doc: "Stops the run with Kamal's error line \"ERROR (CLASS): MESSAGE\" (fail() is Starlark's own, for script bugs).",
	Fn:  errorBuiltin,
}

func errorBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var class, msg string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &class, &msg); err != nil {
		return nil, err
	}
	return nil, kamalerr.New(class, msg)
}

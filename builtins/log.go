package builtins

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/log"
)

var sayGlobal = Builtin{
	Sig: "say(msg, color=None)",
	Doc: "Prints msg whatever the verbosity, as Kamal's say; color is red, green, yellow, blue or magenta (only on a terminal).",
	Fn:  sayBuiltin,
}

func sayBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg, color string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg", &msg, "color??", &color); err != nil {
		return nil, err
	}
	if !log.ValidSayColor(color) {
		return nil, fmt.Errorf("%s: unknown color %q (want red, green, yellow, blue or magenta)", b.Name(), color)
	}
	EnvOf(thread).Log.Say(msg, color)
	return starlark.None, nil
}

func logAt(level log.Level) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var msg string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg", &msg); err != nil {
			return nil, err
		}
		EnvOf(thread).Log.Log(level, msg)
		return starlark.None, nil
	}
}

var logModule = Builtin{
	Sig: "log",
	Doc: "SSHKit-style log lines that honour -v and -q.",
	Members: []Builtin{
		{Sig: "debug(msg)", Doc: "Prints \" DEBUG msg\" (shown with -v).", Fn: logAt(log.Debug)},
		{Sig: "info(msg)", Doc: "Prints \"  INFO msg\".", Fn: logAt(log.Info)},
		{Sig: "warn(msg)", Doc: "Prints \"  WARN msg\".", Fn: logAt(log.Warn)},
		{Sig: "error(msg)", Doc: "Prints \" ERROR msg\".", Fn: logAt(log.Error)},
	},
}

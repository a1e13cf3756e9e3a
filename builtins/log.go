package builtins

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/kamal-go/kamal/runtime/log"
)

// say(msg, color=None) prints a line whatever the verbosity, as Thor's say.
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

// Log is the "log" module: SSHKit-style lines that honour -v and -q.
var Log = &starlarkstruct.Module{Name: "log", Members: starlark.StringDict{
	"debug": starlark.NewBuiltin("log.debug", logAt(log.Debug)),
	"info":  starlark.NewBuiltin("log.info", logAt(log.Info)),
	"warn":  starlark.NewBuiltin("log.warn", logAt(log.Warn)),
	"error": starlark.NewBuiltin("log.error", logAt(log.Error)),
}}

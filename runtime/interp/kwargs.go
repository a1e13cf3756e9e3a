package interp

import (
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// Flag is a command-line option meant for a subcommand's function.
type Flag struct {
	Name     string // as typed, e.g. "no-cache"
	Value    string
	HasValue bool
}

// Kwargs turns flags into keyword arguments of subcommand name: --no-cache
// becomes no_cache=True, --tag v2 becomes tag="v2". A parameter whose
// default is a bool takes no value ("--x=false" still works); one whose
// default is an int takes an integer. A flag the function has no
// parameter for is an error naming the flags it takes, unless the function
// takes **kwargs: then it gets the flag as a string (True without a value).
func (in *Interp) Kwargs(name string, flags []Flag) ([]starlark.Tuple, error) {
	fn, ok := in.effective[name].(*starlark.Function)
	if !ok {
		if len(flags) > 0 {
			return nil, fmt.Errorf("kamal %s %s takes no options, got --%s", in.command, name, flags[0].Name)
		}
		return nil, nil
	}
	params := map[string]starlark.Value{}
	var names []string
	for i := 0; i < namedParams(fn); i++ {
		p, _ := fn.Param(i)
		params[p] = fn.ParamDefault(i)
		names = append(names, "--"+strings.ReplaceAll(p, "_", "-"))
	}
	var kwargs []starlark.Tuple
	for _, f := range flags {
		key := strings.ReplaceAll(f.Name, "-", "_")
		def, ok := params[key]
		if !ok && fn.HasKwargs() {
			// def f(**kwargs) takes any option: --who bob is who = "bob",
			// a bare --verbose-ish flag is True.
			var v starlark.Value = starlark.True
			if f.HasValue {
				v = starlark.String(f.Value)
			}
			kwargs = append(kwargs, starlark.Tuple{starlark.String(key), v})
			continue
		}
		if !ok {
			if len(names) == 0 {
				return nil, fmt.Errorf("kamal %s %s takes no options, got --%s", in.command, name, f.Name)
			}
			return nil, fmt.Errorf("unknown option --%s for kamal %s %s (it takes %s)", f.Name, in.command, name, strings.Join(names, ", "))
		}
		var v starlark.Value = starlark.String(f.Value)
		switch def.(type) {
		case starlark.Bool:
			b := true
			if f.HasValue {
				var err error
				if b, err = strconv.ParseBool(f.Value); err != nil {
					return nil, fmt.Errorf("option --%s takes true or false, got %q", f.Name, f.Value)
				}
			}
			v = starlark.Bool(b)
		case starlark.Int:
			n, err := strconv.Atoi(f.Value)
			if err != nil {
				return nil, fmt.Errorf("option --%s takes a whole number, got %q", f.Name, f.Value)
			}
			v = starlark.MakeInt(n)
		default:
			if !f.HasValue {
				return nil, fmt.Errorf("option --%s needs a value (--%s=VALUE)", f.Name, f.Name)
			}
		}
		kwargs = append(kwargs, starlark.Tuple{starlark.String(key), v})
	}
	return kwargs, nil
}

// namedParams is the number of fn's parameters that have names a flag can
// use: all but *args and **kwargs, which go.starlark.net puts last.
func namedParams(fn *starlark.Function) int {
	n := fn.NumParams()
	if fn.HasVarargs() {
		n--
	}
	if fn.HasKwargs() {
		n--
	}
	return n
}

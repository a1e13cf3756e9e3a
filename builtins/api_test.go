package builtins

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// TestEveryEntryIsComplete: each entry is documented and is exactly one
// of a function, a value or a module (steps, set by the runtime, none).
func TestEveryEntryIsComplete(t *testing.T) {
	seen := map[string]bool{}
	check := func(name string, b Builtin) {
		if seen[name] {
			t.Errorf("%s is registered twice", name)
		}
		seen[name] = true
		if strings.TrimSpace(b.Doc) == "" {
			t.Errorf("%s has no doc", name)
		}
		kinds := 0
		for _, set := range []bool{b.Fn != nil, b.Value != nil, b.Members != nil} {
			if set {
				kinds++
			}
		}
		if kinds != 1 && name != "steps" {
			t.Errorf("%s is %d of function, value and module, want exactly one", name, kinds)
		}
		if strings.Contains(b.Sig, "(") != (b.Fn != nil) {
			t.Errorf("%s: a signature with parameters must be a function's, and only a function's: %q", name, b.Sig)
		}
	}
	for _, g := range globals {
		check(g.Name(), g)
		for _, m := range g.Members {
			check(g.Name()+"."+m.Name(), m)
		}
	}
}

// probe is a value no builtin parameter accepts as what it wants, so a
// call with it fails in argument checking, before the builtin acts.
type probe struct{}

func (probe) String() string        { return "probe" }
func (probe) Type() string          { return "probe" }
func (probe) Freeze()               {}
func (probe) Truth() starlark.Bool  { return true }
func (probe) Hash() (uint32, error) { return 0, nil }

// call calls fn with kwargs on a thread of a run without config; a panic
// (a builtin that went past its arguments) is an error.
func call(t *testing.T, name string, fn Func, args starlark.Tuple, kwargs []starlark.Tuple) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	env, _ := testEnv(t)
	thread := &starlark.Thread{Name: "probe"}
	env.Attach(thread)
	SetContext(thread, context.Background())
	_, err = starlark.Call(thread, starlark.NewBuiltin(name, fn), args, kwargs)
	return err
}

// TestSignaturesAreTheParametersTaken: every keyword parameter a
// signature documents (name=default) is one the builtin takes, and a
// builtin documented without parameters takes none.
func TestSignaturesAreTheParametersTaken(t *testing.T) {
	var fns []Builtin
	for _, g := range globals {
		if g.Fn != nil {
			fns = append(fns, g)
		}
		for _, m := range g.Members {
			m.Sig = g.Name() + "." + m.Sig
			fns = append(fns, m)
		}
	}
	for _, b := range fns {
		_, params, _ := strings.Cut(strings.TrimSuffix(b.Sig, ")"), "(")
		if params == "" {
			if err := call(t, b.Name(), b.Fn, starlark.Tuple{probe{}}, nil); err == nil || strings.HasPrefix(err.Error(), "panic") {
				t.Errorf("%s: documented without parameters, but a call with one gave %v", b.Sig, err)
			}
			continue
		}
		for _, p := range strings.Split(params, ", ") {
			kw, _, hasDefault := strings.Cut(p, "=")
			if !hasDefault {
				continue
			}
			err := call(t, b.Name(), b.Fn, nil, []starlark.Tuple{{starlark.String(kw), probe{}}})
			if err == nil || strings.Contains(err.Error(), "unexpected keyword") || strings.HasPrefix(err.Error(), "panic") {
				t.Errorf("%s: %s=probe gave %v, want the parameter refusing the value", b.Sig, kw, err)
			}
		}
		err := call(t, b.Name(), b.Fn, nil, []starlark.Tuple{{starlark.String("undocumented"), probe{}}})
		if err == nil || !strings.Contains(err.Error(), "unexpected keyword") {
			t.Errorf("%s: undocumented=probe gave %v, want unexpected keyword argument", b.Sig, err)
		}
	}
}

func TestDocsMatchTheAPICommand(t *testing.T) {
	b, err := os.ReadFile("../docs/builtins.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != Reference() {
		t.Fatal("docs/builtins.md differs from `kamal build api`; regenerate it with go generate ./builtins")
	}
}

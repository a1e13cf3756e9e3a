package debugger

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/google/go-dap"
	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/interp"
)

// DAP's setVariable: a local of a stopped frame takes the value of an
// expression evaluated in that frame. go.starlark.net's debug API reads a
// frame's locals but has no way to write them, so setLocal writes the
// frame's slot (or the cell a closure shares) through reflect, checking
// the layout it relies on first: a go.starlark.net that changed it makes
// setVariable fail, never write elsewhere.

// setVariable answers a setVariable request for a local of a frame.
func (s *dapServer) setVariable(r *dap.Request, a *dap.SetVariableArguments) {
	st, sel, ok := s.frame(r, a.VariablesReference)
	if !ok {
		return
	}
	v, err := s.d.evalExpr(st.t, sel, a.Value, true)
	if err != nil {
		s.fail(r, "%s = %s: %s", a.Name, a.Value, s.d.in.State().Log.Scrub(interp.ErrorText(err)))
		return
	}
	if err := setLocal(st.t.DebugFrame(sel), a.Name, v); err != nil {
		s.fail(r, "%s", err)
		return
	}
	s.send(&dap.SetVariableResponse{Response: response(r), Body: dap.SetVariableResponseBody{
		Value: s.d.in.State().Log.Scrub(v.String()), Type: v.Type(),
	}})
}

var valuesType = reflect.TypeOf([]starlark.Value(nil))

// setLocal sets the local variable name of frame fr (a Starlark
// function's) to v.
func setLocal(fr starlark.DebugFrame, name string, v starlark.Value) error {
	if _, ok := fr.Callable().(*starlark.Function); !ok {
		return fmt.Errorf("%s: not a Starlark function's frame", fr.Callable().Name())
	}
	slot := -1
	for i := 0; i < fr.NumLocals(); i++ {
		if b, _ := fr.Local(i); b.Name == name {
			slot = i
		}
	}
	if slot < 0 {
		return fmt.Errorf("%s is not a local variable of %s (only a frame's locals can be set)", name, fr.Callable().Name())
	}
	rv := reflect.ValueOf(fr)
	if rv.Kind() != reflect.Pointer || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("setting %s: this go.starlark.net's frames are not as expected", name)
	}
	field := rv.Elem().FieldByName("locals")
	if !field.IsValid() || field.Type() != valuesType {
		return fmt.Errorf("setting %s: this go.starlark.net's frames are not as expected", name)
	}
	locals := *(*[]starlark.Value)(unsafe.Pointer(field.UnsafeAddr()))
	if slot >= len(locals) {
		return fmt.Errorf("setting %s: no such slot", name)
	}
	if cur := locals[slot]; cur != nil && cur.Type() == "cell" {
		// Captured by a nested function: the cell is shared, set its value.
		cv := reflect.ValueOf(cur)
		if cv.Kind() != reflect.Pointer || cv.Elem().Kind() != reflect.Struct || cv.Elem().NumField() != 1 ||
			cv.Elem().Field(0).Type() != reflect.TypeOf((*starlark.Value)(nil)).Elem() {
			return fmt.Errorf("setting %s: this go.starlark.net's cells are not as expected", name)
		}
		*(*starlark.Value)(unsafe.Pointer(cv.Elem().Field(0).UnsafeAddr())) = v
		return nil
	}
	locals[slot] = v
	return nil
}

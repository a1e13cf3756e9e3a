package builtins

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
	"go.starlark.net/syntax"
)

// TestStarlarkFiles runs every testdata/*_test.star file: each top-level
// function named test_* is called with the assert module in scope, and a
// failed assert.eq fails the Go test with the Starlark position.
func TestStarlarkFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/*_test.star")
	if len(files) == 0 {
		t.Fatal("no Starlark test files found")
	}
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			pre := starlark.StringDict{
				"cmd":    starlark.NewBuiltin("cmd", cmdBuiltin),
				"secret": starlark.NewBuiltin("secret", secretBuiltin),
				"shell":  Shell,
			}
			for k, v := range assert {
				pre[k] = v
			}
			thread := &starlark.Thread{Name: file}
			starlarktest.SetReporter(thread, t)
			opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true}
			globals, err := starlark.ExecFileOptions(opts, thread, file, src, pre)
			if err != nil {
				t.Fatal(err)
			}
			ran := 0
			for name, fn := range globals {
				if !strings.HasPrefix(name, "test_") {
					continue
				}
				ran++
				t.Run(name, func(t *testing.T) {
					th := &starlark.Thread{Name: name}
					starlarktest.SetReporter(th, t)
					if _, err := starlark.Call(th, fn, nil, nil); err != nil {
						if ee, ok := err.(*starlark.EvalError); ok {
							t.Fatal(ee.Backtrace())
						}
						t.Fatal(err)
					}
				})
			}
			if ran == 0 {
				t.Fatalf("%s defines no test_ functions", file)
			}
		})
	}
}

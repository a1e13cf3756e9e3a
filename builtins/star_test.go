package builtins

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// TestStarlarkFiles runs every testdata/*_test.star file: each top-level
// function named test_* is called with the assert module and every
// builtin in scope, and a failed assert.eq fails the Go test with the
// Starlark position. Commands run for real, in a shell on this machine
// (ssh.run too: its "hosts" are this machine); the run has no config. tmp
// is the app directory (empty), logged() what the run printed so far.
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
			env, out := testEnv(t)
			pre := Predeclared(env)
			pre["tmp"] = starlark.String(env.Dir)
			pre["logged"] = starlark.NewBuiltin("logged", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return starlark.String(out.String()), nil
			})
			for k, v := range assert {
				pre[k] = v
			}
			thread := &starlark.Thread{Name: file}
			env.Attach(thread)
			SetContext(thread, context.Background())
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
					env.Attach(th)
					SetContext(th, context.Background())
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

// testEnv is a run without config whose commands, local and "remote",
// run in a shell here, logging into the returned buffer.
func testEnv(t *testing.T) (*Env, *bytes.Buffer) {
	var out bytes.Buffer
	logger := log.New(&syncWriter{w: &out}, false)
	local := &executor.Local{}
	return NewEnv(&runstate.State{Dir: t.TempDir(), Log: logger, Runner: &sshkit.Runner{Log: logger, Local: local, Remote: hereTransport{local}}}), &out
}

// hereTransport runs a host's commands on this machine.
type hereTransport struct{ local *executor.Local }

func (h hereTransport) Run(ctx context.Context, _ string, req executor.Request) (int, error) {
	return h.local.Run(ctx, "", req)
}

// syncWriter serializes writes from the threads of on().
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

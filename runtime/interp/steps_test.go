package interp

// TestStockSteps runs testdata/steps/APP_*_test.star: Starlark tests of
// the stock script's steps against a fake executor. Each test_ function
// runs in a fresh run of testdata/APP (config, env, stock script loaded),
// with go.starlark.net's assert module and a "fake" module in scope:
//
//	fake.on(match, status=0, stdout="", stderr="", host="")
//	    answer commands containing match (on host, "" for any) so
//	fake.commands(host=None)
//	    the scripts run so far, in order (on host only, if given;
//	    local commands run on "localhost")
//	fake.log()
//	    what the run printed so far
//	fake.reset()
//	    forget the commands run and the log

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/starlarktest"

	"github.com/kamal-go/kamal/runtime/fakeworld"
	"github.com/kamal-go/kamal/runtime/log"
)

func TestStockSteps(t *testing.T) {
	files, _ := filepath.Glob("testdata/steps/*_test.star")
	if len(files) == 0 {
		t.Fatal("no Starlark test files in testdata/steps")
	}
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		file, _ = filepath.Abs(file)
		base := filepath.Base(file)
		appName, _, _ := strings.Cut(base, "_")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(base, func(t *testing.T) {
			dir := app(t, appName)
			t.Setenv("KAMAL_REGISTRY_PASSWORD", "s3cret-pw")
			t.Setenv("USER", "")
			t.Setenv("LOGNAME", "")
			rev := revision(t, dir)
			// One run to find the test functions; each then runs in its own.
			names := func() []string {
				s := newStepSession(t, dir, rev)
				g, err := s.exec(file, src, assert)
				if err != nil {
					t.Fatal(ErrorText(err))
				}
				var names []string
				for name, v := range g {
					if _, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, "test_") {
						names = append(names, name)
					}
				}
				return names
			}()
			if len(names) == 0 {
				t.Fatalf("%s defines no test_ functions", base)
			}
			for _, name := range names {
				t.Run(name, func(t *testing.T) {
					s := newStepSession(t, dir, rev)
					g, err := s.exec(file, src, assert)
					if err != nil {
						t.Fatal(ErrorText(err))
					}
					th := s.in.thread(context.Background(), name)
					starlarktest.SetReporter(th, t)
					if _, err := starlark.Call(th, g[name], nil, nil); err != nil {
						t.Fatal(ErrorText(err))
					}
				})
			}
		})
	}
}

type stepSession struct {
	in   *Interp
	fake *scriptedHosts
}

func newStepSession(t *testing.T, dir, rev string) *stepSession {
	t.Helper()
	fake := &scriptedHosts{defaults: []rule{{Match: "rev-parse HEAD", Stdout: rev + "\n"}}}
	fake.World = newWorld(fake.defaults...)
	env, err := runstate.New(runstate.Options{
		Dir: dir, Log: log.New(&fake.out, false), Local: fake, Remote: fake,
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Command: "build", Subcommand: "push"},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := New(env)
	if err := in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &stepSession{in: in, fake: fake}
}

// exec runs the test file in the session with the fake and assert modules.
func (s *stepSession) exec(file string, src []byte, assert starlark.StringDict) (starlark.StringDict, error) {
	pre := starlark.StringDict{"fake": s.fake.module()}
	for k, v := range s.in.predeclared {
		pre[k] = v
	}
	for k, v := range assert {
		pre[k] = v
	}
	return starlark.ExecFileOptions(fileOptions, s.in.thread(context.Background(), "load"), file, src, pre)
}

// scriptedHosts is the fake world of the Starlark tests: rules set by the
// test answer first (the latest first), then the defaults, then success.
type scriptedHosts struct {
	*fakeworld.World
	defaults []rule
	out      lockedBuffer
}

// commands are the scripts run, with their hosts (local ones on
// "localhost").
func (f *scriptedHosts) commands() [][2]string {
	var out [][2]string
	for _, c := range f.Ran() {
		host := c.Host
		if host == "" {
			host = "localhost"
		}
		out = append(out, [2]string{host, c.Script})
	}
	return out
}

// lockedBuffer is the run's log, written by its threads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lockedBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

func (f *scriptedHosts) module() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "fake", Members: starlark.StringDict{
		"on": starlark.NewBuiltin("fake.on", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var r rule
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "match", &r.Match, "status?", &r.Status, "stdout?", &r.Stdout, "stderr?", &r.Stderr, "host?", &r.Host); err != nil {
				return nil, err
			}
			f.Answer(r)
			return starlark.None, nil
		}),
		"commands": starlark.NewBuiltin("fake.commands", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var host string
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "host?", &host); err != nil {
				return nil, err
			}
			var out []starlark.Value
			for _, r := range f.commands() {
				if host == "" || r[0] == host {
					out = append(out, starlark.String(r[1]))
				}
			}
			return starlark.NewList(out), nil
		}),
		"hosts": starlark.NewBuiltin("fake.hosts", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var match string
			if err := starlark.UnpackArgs(b.Name(), args, kwargs, "match", &match); err != nil {
				return nil, err
			}
			var out []starlark.Value
			for _, r := range f.commands() {
				if strings.Contains(r[1], match) {
					out = append(out, starlark.String(r[0]))
				}
			}
			return starlark.NewList(out), nil
		}),
		"log": starlark.NewBuiltin("fake.log", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return starlark.String(f.out.String()), nil
		}),
		"reset": starlark.NewBuiltin("fake.reset", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			if err := starlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			f.World = newWorld(f.defaults...)
			f.out.Reset()
			return starlark.None, nil
		}),
	}}
}

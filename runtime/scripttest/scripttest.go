// Package scripttest runs the tests of a user's scripts (`kamal build
// test`): the test_* functions of .kamal/scripts/*_test.star, each against
// a fresh fake world (runtime/fakeworld) in which nothing runs and every
// command the flow would run is recorded with its host.
//
// A test file sees every builtin, the effective steps (the stock script
// with the user's overrides), and:
//
//	assert   go.starlark.net's starlarktest module (eq, ne, true, lt, contains, fails, fail)
//	ran()    the (host, command) pairs so far, in order, local ones under "localhost",
//	         each command as the log shows it, secrets redacted
//	answer(pattern, stdout="", exit=0, host=None, stderr="")
//	         commands matching the regular expression (on host, or anywhere)
//	         answer with that output and exit status; the latest answer decides
//
// Run is called once per command; it is not safe for concurrent use with
// itself (a test's threads share its world).
package scripttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/fakeworld"
	"github.com/kamal-go/kamal/runtime/interp"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Options say what to test and how.
type Options struct {
	Dir string // the app's root
	// Files are the test files; none means Dir/.kamal/scripts/*_test.star.
	Files []string
	// Run selects the tests whose name it matches (nil: all).
	Run *regexp.Regexp
	// Scripts are the user's scripts loaded over the stock one, as for
	// any subcommand.
	Scripts []string
	// Flags are the run's flags (-c, -d, -h, -r, --version ...); Command
	// and Subcommand are set here.
	Flags runstate.Flags
	// Out receives the results; with Verbose, each test's log too.
	Out     io.Writer
	Verbose bool
}

// Summary counts the tests run.
type Summary struct{ Passed, Failed int }

// Run runs the selected tests of every file and prints one line per test
// ("--- PASS: NAME" or "--- FAIL: NAME", each failure then indented as
// "FILE:LINE: message") and last "N passed, M failed". A file that does
// not load, or an app whose config does not, is an error.
func Run(ctx context.Context, o Options) (Summary, error) {
	var sum Summary
	files, err := testFiles(o)
	if err != nil {
		return sum, err
	}
	for _, file := range files {
		names, err := testNames(ctx, o, file)
		if err != nil {
			return sum, err
		}
		for _, name := range names {
			if o.Run != nil && !o.Run.MatchString(name) {
				continue
			}
			failures, logText, err := runTest(ctx, o, file, name)
			if err != nil {
				return sum, err
			}
			if o.Verbose {
				fmt.Fprintf(o.Out, "=== RUN   %s\n%s", name, logText)
			}
			if len(failures) == 0 {
				sum.Passed++
				fmt.Fprintf(o.Out, "--- PASS: %s\n", name)
				continue
			}
			sum.Failed++
			fmt.Fprintf(o.Out, "--- FAIL: %s\n", name)
			for _, f := range failures {
				fmt.Fprintf(o.Out, "    %s\n", strings.ReplaceAll(f, "\n", "\n        "))
			}
		}
	}
	fmt.Fprintf(o.Out, "%d passed, %d failed\n", sum.Passed, sum.Failed)
	return sum, nil
}

// testFiles returns the files named, else the app's *_test.star files.
func testFiles(o Options) ([]string, error) {
	if len(o.Files) > 0 {
		for _, f := range o.Files {
			if _, err := os.Stat(f); err != nil {
				return nil, fmt.Errorf("test file %s: %w", f, err)
			}
		}
		return o.Files, nil
	}
	files, err := filepath.Glob(filepath.Join(o.Dir, ".kamal", "scripts", "*_test.star"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no test files: name them or put them in .kamal/scripts/*_test.star")
	}
	sort.Strings(files)
	return files, nil
}

// session is one test's interpreter over its own world.
type session struct {
	in    *interp.Interp
	env   *runstate.State
	world *fakeworld.World
	log   bytes.Buffer
}

// newSession loads the config, the stock script, the user's scripts and
// the test file against a new world.
func newSession(ctx context.Context, o Options) (*session, error) {
	s := &session{world: fakeworld.New()}
	logger := log.New(&s.log, false)
	if o.Verbose {
		logger.SetThreshold(log.Debug)
	}
	s.world.Redact = logger.Scrub
	s.world.Queries = gitQueries{}
	flags := o.Flags
	flags.Command, flags.Subcommand = "build", "test"
	env, err := runstate.New(runstate.Options{Context: ctx, Stderr: o.Out, Dir: o.Dir, Log: logger, Flags: flags, Local: s.world, Remote: s.world})
	if err != nil {
		return nil, err
	}
	s.env = env
	s.in = interp.New(env)
	if err := s.in.LoadStock(ctx); err != nil {
		return nil, err
	}
	for _, f := range o.Scripts {
		if err := s.in.LoadUser(ctx, f); err != nil {
			return nil, err
		}
	}
	assert, err := starlarktest.LoadAssertModule()
	if err != nil {
		return nil, err
	}
	s.in.Predeclare(starlark.StringDict{
		"assert": assert["assert"],
		"ran":    starlark.NewBuiltin("ran", s.ran),
		"answer": starlark.NewBuiltin("answer", s.answer),
	})
	return s, nil
}

// gitQueries runs the silent queries that only read the app's git
// repository (and whoami, for the lock's and audit's performer) for real:
// the version and the uncommitted-changes notice come from them. Any other
// query (docker's architecture) runs nothing and answers empty.
type gitQueries struct{}

func (gitQueries) Run(ctx context.Context, host string, req executor.Request) (int, error) {
	if strings.HasPrefix(req.Script, "git ") || req.Script == "whoami" {
		return (&executor.Local{}).Run(ctx, host, req)
	}
	return 0, nil
}

// testNames lists file's test_* functions in the order they are defined.
func testNames(ctx context.Context, o Options, file string) ([]string, error) {
	s, err := newSession(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.env.Close()
	g, err := s.in.LoadFile(ctx, file)
	if err != nil {
		return nil, err
	}
	var fns []*starlark.Function
	for name, v := range g {
		if fn, ok := v.(*starlark.Function); ok && strings.HasPrefix(name, "test_") && fn.Name() == name {
			fns = append(fns, fn)
		}
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].Position().Line < fns[j].Position().Line })
	names := make([]string, len(fns))
	for i, fn := range fns {
		names[i] = fn.Name()
	}
	return names, nil
}

// runTest runs test name of file in a session of its own and returns its
// failures ("FILE:LINE: message") and the flow's log.
func runTest(ctx context.Context, o Options, file, name string) ([]string, string, error) {
	s, err := newSession(ctx, o)
	if err != nil {
		return nil, "", err
	}
	defer s.env.Close()
	g, err := s.in.LoadFile(ctx, file)
	if err != nil {
		return nil, "", err
	}
	abs, _ := filepath.Abs(file)
	rep := &reporter{file: abs, dir: o.Dir}
	_, err = s.in.CallFunc(ctx, name, g[name].(starlark.Callable), func(t *starlark.Thread) { starlarktest.SetReporter(t, rep) })
	if err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		rep.uncaught(err)
	}
	return rep.failures, s.log.String(), nil
}

// ran is the test's ran(): the recorded (host, command) pairs.
func (s *session) ran(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, c := range s.world.Ran() {
		host := fakeworld.Local
		if c.Host != "" {
			host = sshkit.DisplayHost(c.Host)
		}
		out = append(out, starlark.Tuple{starlark.String(host), starlark.String(c.Shown)})
	}
	return starlark.NewList(out), nil
}

// answer is the test's answer(pattern, stdout="", exit=0, host=None, stderr="").
func (s *session) answer(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, stdout, stderr string
	var exit int
	var host starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern, "stdout?", &stdout, "exit?", &exit, "host?", &host, "stderr?", &stderr); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if exit < 0 || exit > 255 {
		return nil, fmt.Errorf("%s: exit %d is not an exit status (0 to 255)", b.Name(), exit)
	}
	r := fakeworld.Rule{Pattern: re, Status: exit, Stdout: stdout, Stderr: stderr}
	if host != starlark.None {
		h, ok := starlark.AsString(host)
		if !ok || h == "" {
			return nil, fmt.Errorf("%s: host must be a host name or None, not %s", b.Name(), host.Type())
		}
		r.Host = h
	}
	s.world.Answer(r)
	return starlark.None, nil
}

// reporter collects a test's failures: starlarktest's error() calls
// Error with a traceback and the message; an uncaught error ends the test.
// Threads of on() report concurrently.
type reporter struct {
	file, dir string
	mu        sync.Mutex
	failures  []string
}

// Error receives "Traceback (most recent call last):\n  POS: in FN\n...Error: MSG".
func (r *reporter) Error(args ...any) {
	text := fmt.Sprint(args...)
	var positions []string
	rest := text
	if head, body, ok := strings.Cut(rest, "\n"); ok && strings.HasPrefix(head, "Traceback") {
		rest = body
		for strings.HasPrefix(rest, "  ") {
			line, more, _ := strings.Cut(rest, "\n")
			pos, _, _ := strings.Cut(strings.TrimSpace(line), ": in ")
			positions = append(positions, pos)
			rest = more
		}
	}
	msg := strings.TrimPrefix(rest, "Error: ")
	r.add(r.where(positions), msg)
}

// uncaught records an error that ended the test.
func (r *reporter) uncaught(err error) {
	var positions []string
	msg := err.Error()
	if ee, ok := err.(*starlark.EvalError); ok {
		for _, fr := range ee.CallStack {
			positions = append(positions, fr.Pos.String())
		}
		msg = ee.Msg
	}
	r.add(r.where(positions), msg)
}

func (r *reporter) add(where, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, where+": "+msg)
}

// where picks the innermost position in the test file (else the innermost
// of all) and shows it as FILE:LINE, FILE relative to the app.
func (r *reporter) where(positions []string) string {
	pick := ""
	for i := len(positions) - 1; i >= 0; i-- {
		if strings.HasPrefix(positions[i], r.file+":") {
			pick = positions[i]
			break
		}
	}
	if pick == "" && len(positions) > 0 {
		pick = positions[len(positions)-1]
	}
	if pick == "" {
		return r.show(r.file)
	}
	// FILE:LINE:COL -> FILE:LINE
	if i := strings.LastIndex(pick, ":"); i > 0 {
		pick = pick[:i]
	}
	return r.show(pick)
}

func (r *reporter) show(pos string) string {
	if rel, err := filepath.Rel(r.dir, pos); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return pos
}

package interp

// User scripts on top of the stock one: which function answers to a name,
// what becomes a subcommand, how flags become keyword arguments, what
// `kamal build script` and --trace show, and the errors a user gets.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/log"
)

// userApp is testdata/NAME as a git repository plus the user files given
// (paths relative to the app).
func userApp(t *testing.T, name string, files map[string]string) string {
	t.Helper()
	dir := app(t, name)
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// session is an interpreter over a fake transport with the stock script
// and the user scripts loaded.
type session struct {
	in   *Interp
	env  *runstate.State
	fake *fakeHosts
	out  *bytes.Buffer
}

func newSession(t *testing.T, dir string, userFiles ...string) (*session, error) {
	t.Helper()
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "s3cret-pw")
	t.Setenv("USER", "")
	t.Setenv("LOGNAME", "")
	var out bytes.Buffer
	fake := newWorld(rule{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"})
	env, err := runstate.New(runstate.Options{
		Dir: dir, Log: log.New(&out, false), Local: fake, Remote: fake,
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Command: "build", Subcommand: "push"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{in: New(env), env: env, fake: fake, out: &out}
	if err := s.in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range userFiles {
		if err := s.in.LoadUser(context.Background(), filepath.Join(dir, f)); err != nil {
			return s, err
		}
	}
	return s, nil
}

func mustSession(t *testing.T, dir string, userFiles ...string) *session {
	t.Helper()
	s, err := newSession(t, dir, userFiles...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *session) call(t *testing.T, name string, kwargs ...starlark.Tuple) error {
	t.Helper()
	s.fake.Reset()
	return s.in.Call(context.Background(), name, kwargs)
}

// ran is what ran, one "HOST|SCRIPT" per command, in order.
func (s *session) ran() string {
	var lines []string
	for _, c := range s.fake.Ran() {
		lines = append(lines, c.Host+"|"+c.Script)
	}
	return strings.Join(lines, "\n")
}

func (s *session) commands() map[string]Command {
	m := map[string]Command{}
	for _, c := range s.in.Commands() {
		m[c.Name] = c
	}
	return m
}

// inOrder checks that the parts appear in s in this order.
func inOrder(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	at := 0
	for _, p := range parts {
		i := strings.Index(s[at:], p)
		if i < 0 {
			t.Errorf("%s lacks %q after offset %d:\n%s", what, p, at, s)
			return
		}
		at += i + len(p)
	}
}

const userFile = ".kamal/scripts/build.star"

func TestReplacingOneStepChangesTheStockFlow(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def build_command(output = "registry", no_cache = False):
    return cmd("echo", "custom-build", output)
`})
	s := mustSession(t, dir, userFile)
	if err := s.call(t, "push"); err != nil {
		t.Fatal(err)
	}
	ran := s.ran()
	// The rest of the stock flow is unchanged: hook, lock, docker check,
	// then the replaced step in place of git archive | docker build.
	inOrder(t, "commands", ran, "pre-connect", "mkdir -p .kamal/locks", "docker --version", "pre-build", "/usr/bin/env echo custom-build registry", "rm -r .kamal/locks/app")
	if strings.Contains(ran, "docker build") {
		t.Errorf("the stock build command still ran:\n%s", ran)
	}
	if c := s.commands()["push"]; c.Origin != StockLabel {
		t.Errorf("push comes from %q, want the stock script (only a step was replaced)", c.Origin)
	}
	if _, ok := s.commands()["build_command"]; ok {
		t.Error("a replaced stock step became a subcommand")
	}
}

// A step's new keyword (here --skip-existing's) reaches it only when the
// option is given, so an override written before the keyword existed keeps
// working on every other run.
func TestAnOverrideWithoutANewerStepKeywordStillRuns(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def pull_kamal15(serve = False):
    local.run(cmd("echo", "custom-pull"))

def pull_images(hosts):
    local.run(cmd("echo", "custom-pull-images"))
`})
	s := mustSession(t, dir, userFile)
	if err := s.call(t, "pull"); err != nil {
		t.Fatal(err)
	}
	inOrder(t, "pull", s.ran(), "echo custom-pull")
}

func TestWrappingAStockFunctionWithLoad(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
load("@kamal//build.star", stock_push = "push")

def push(output = "registry", no_cache = False):
    """Push, then tell someone"""
    local.run(cmd("echo", "before-push"))
    stock_push(output = output, no_cache = no_cache)
    local.run(cmd("echo", "after-push"))
`})
	s := mustSession(t, dir, userFile)
	if err := s.call(t, "push"); err != nil {
		t.Fatal(err)
	}
	inOrder(t, "push", s.ran(), "echo before-push", "docker build", "echo after-push")

	// deliver calls steps.push: the wrapper, then the stock pull.
	if err := s.call(t, "deliver"); err != nil {
		t.Fatal(err)
	}
	inOrder(t, "deliver", s.ran(), "echo before-push", "docker build", "echo after-push", "docker pull")
	if strings.Count(s.ran(), "docker build") != 1 {
		t.Errorf("deliver built more than once:\n%s", s.ran())
	}
	c := s.commands()["push"]
	if c.Origin != filepath.Join(dir, userFile) || c.Doc != "Push, then tell someone" {
		t.Errorf("push = %+v, want the user's with its docstring", c)
	}
}

func TestUserFilesLoadHelpersRelativeToThemselves(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{
		userFile: `
load("lib/messages.star", "message")

def hello():
    """Say the helper's message"""
    say(message())
`,
		".kamal/scripts/lib/messages.star": `
load("../words.star", "WORD")

def message():
    return "hello " + WORD
`,
		".kamal/scripts/words.star": `WORD = "from words.star"`,
	})
	s := mustSession(t, dir, userFile)
	if err := s.call(t, "hello"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), "hello from words.star\n") {
		t.Errorf("output:\n%s", s.out)
	}
	// Names a user file loads are its own, not subcommands or steps.
	for _, name := range []string{"message", "WORD"} {
		if _, ok := s.commands()[name]; ok {
			t.Errorf("%s, loaded by the user file, became a subcommand", name)
		}
	}
}

func TestLoadsMayNotLeaveTheApp(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `load("../../../outside.star", "x")`})
	os.WriteFile(filepath.Join(dir, "..", "outside.star"), []byte("x = 1\n"), 0o644)
	_, err := newSession(t, dir, userFile)
	if err == nil || !strings.Contains(err.Error(), "is outside the app directory") {
		t.Fatalf("err = %v, want a load outside the app refused", err)
	}
	dir = userApp(t, "kamal1", map[string]string{userFile: `load("@other//x.star", "x")`})
	if _, err = newSession(t, dir, userFile); err == nil || !strings.Contains(err.Error(), "unknown repository") {
		t.Fatalf("err = %v, want an unknown repository refused", err)
	}
}

func TestPublicFunctionsTheStockLacksBecomeSubcommands(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
load("@kamal//build.star", stock_push = "push")

LIMIT = 3

def ship(tag = "latest", hosts = 2, force = False):
    """Ship the image somewhere else.

    Longer help: every line of the docstring shows in
    kamal build help ship.
    """
    say("ship tag=%s hosts=%d force=%s" % (tag, hosts, force))

def zap():
    say("zap")

def _private():
    pass

def details():
    """Show the build setup, the user's way"""
    say("mine")
`})
	s := mustSession(t, dir, userFile)
	cmds := s.commands()
	for _, name := range []string{"ship", "zap"} {
		if c, ok := cmds[name]; !ok || c.Origin != filepath.Join(dir, userFile) {
			t.Errorf("%s: %+v, %v; want a subcommand from the user file", name, c, ok)
		}
	}
	for _, name := range []string{"_private", "LIMIT", "stock_push", "build_command", "pull_on_host"} {
		if _, ok := cmds[name]; ok {
			t.Errorf("%s became a subcommand", name)
		}
	}
	if !strings.HasPrefix(cmds["ship"].Doc, "Ship the image somewhere else.\n") || !strings.Contains(cmds["ship"].Doc, "kamal build help ship.") {
		t.Errorf("ship's doc = %q, want the whole docstring", cmds["ship"].Doc)
	}
	if cmds["details"].Origin != filepath.Join(dir, userFile) {
		t.Errorf("details comes from %s, want the user's replacement", cmds["details"].Origin)
	}
	// Each name is listed once, sorted, stock and user's together.
	var names []string
	for _, c := range s.in.Commands() {
		names = append(names, c.Name)
	}
	if got, want := strings.Join(names, " "), "create deliver details dev pull push remove ship zap"; got != want {
		t.Errorf("subcommands: %s\nwant:        %s", got, want)
	}
	if !s.in.Has("ship") || s.in.Has("_private") || s.in.Has("build_command") {
		t.Error("Has disagrees with Commands")
	}

	// Flags become keyword arguments, typed by the defaults.
	kw, err := s.in.Kwargs("ship", []Flag{{Name: "tag", Value: "v2", HasValue: true}, {Name: "hosts", Value: "5", HasValue: true}, {Name: "force"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.call(t, "ship", kw...); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), "ship tag=v2 hosts=5 force=True\n") {
		t.Errorf("output:\n%s", s.out)
	}
	for _, tt := range []struct {
		flags []Flag
		want  string
	}{
		{[]Flag{{Name: "colour", Value: "red", HasValue: true}}, "unknown option --colour for kamal build ship (it takes --tag, --hosts, --force)"},
		{[]Flag{{Name: "hosts", Value: "many", HasValue: true}}, `option --hosts takes a whole number, got "many"`},
		{[]Flag{{Name: "force", Value: "maybe", HasValue: true}}, `option --force takes true or false, got "maybe"`},
		{[]Flag{{Name: "tag"}}, "option --tag needs a value (--tag=VALUE)"},
	} {
		if _, err := s.in.Kwargs("ship", tt.flags); err == nil || err.Error() != tt.want {
			t.Errorf("Kwargs(%v) = %v, want %q", tt.flags, err, tt.want)
		}
	}
	if _, err := s.in.Kwargs("zap", []Flag{{Name: "x"}}); err == nil || err.Error() != "kamal build zap takes no options, got --x" {
		t.Errorf("zap --x: %v", err)
	}
}

func TestADestinationScriptOverridesTheBaseOne(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{
		userFile: `
def where():
    """Say which script answered"""
    say("base")

def base_only():
    """Only in the base script"""
    say("base only")
`,
		".kamal/scripts/build.staging.star": `
def where():
    """Say which script answered"""
    say("staging")
`,
	})
	s := mustSession(t, dir, userFile, ".kamal/scripts/build.staging.star")
	if err := s.call(t, "where"); err != nil {
		t.Fatal(err)
	}
	if err := s.call(t, "base_only"); err != nil {
		t.Fatal(err)
	}
	if got := s.out.String(); got != "staging\nbase only\n" {
		t.Errorf("output = %q, want the destination's where and the base's base_only", got)
	}
	if n := strings.Count(strings.Join(func() []string {
		var n []string
		for _, c := range s.in.Commands() {
			n = append(n, c.Name)
		}
		return n
	}(), " "), "where"); n != 1 {
		t.Errorf("where is listed %d times", n)
	}
}

func TestEffectiveScriptNamesWhereEachFunctionComesFrom(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def build_command(output = "registry", no_cache = False):
    return cmd("echo", "mine")

def ship():
    """Ship"""
    pass
`})
	s := mustSession(t, dir, userFile)
	got := s.in.Effective()
	user := filepath.Join(dir, userFile)
	for _, want := range []string{
		"# from @kamal//build.star:",
		"# from " + user + ":2\ndef build_command(output = \"registry\", no_cache = False):\n    return cmd(\"echo\", \"mine\")\n",
		"# from " + user + ":5\ndef ship():\n",
		"def push_kamal15(output = \"registry\"):",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("effective script lacks %q", want)
		}
	}
	if strings.Count(got, "def build_command(") != 1 {
		t.Errorf("the replaced stock build_command is still shown:\n%s", got)
	}
	if strings.Index(got, "@kamal//build.star") > strings.Index(got, user) {
		t.Error("the user's functions are not after the stock ones")
	}
	// The stock's private helpers are not part of the effective table.
	if strings.Contains(got, "def _push_then_pull") {
		t.Error("a private stock function is shown")
	}
}

func TestTraceNamesTheCallingLineOfEveryBuiltin(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def hello():
    """Trace me"""
    c = cmd("echo", "hi")
    local.run(c)
`})
	t.Setenv("KAMAL_REGISTRY_PASSWORD", "s3cret-pw")
	var out, trace bytes.Buffer
	fake := newWorld(rule{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"})
	env, err := runstate.New(runstate.Options{Dir: dir, Log: log.New(&out, false), Local: fake, Remote: fake,
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Command: "build", Subcommand: "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	in := New(env)
	in.Trace(&trace)
	if err := in.LoadStock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := in.LoadUser(context.Background(), filepath.Join(dir, userFile)); err != nil {
		t.Fatal(err)
	}
	if err := in.Call(context.Background(), "hello", nil); err != nil {
		t.Fatal(err)
	}
	user := filepath.Join(dir, userFile)
	lines := strings.Split(strings.TrimSpace(trace.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("trace:\n%s\nwant two lines", trace.String())
	}
	for i, want := range []string{"[trace] " + user + ":4:12 cmd ", "[trace] " + user + ":5:14 local.run "} {
		if !strings.HasPrefix(lines[i], want) || !strings.HasSuffix(lines[i], "s") {
			t.Errorf("trace line %d = %q, want %q followed by a duration", i, lines[i], want)
		}
	}

	// A failing builtin is marked.
	trace.Reset()
	fake.Answer(rule{Match: "echo hi", Status: 1})
	in.Call(context.Background(), "hello", nil)
	if !strings.Contains(trace.String(), "local.run") || !strings.Contains(trace.String(), "(failed)") {
		t.Errorf("trace of a failure:\n%s", trace.String())
	}
}

func TestErrorsInUserFilesSayWhereAndSuggest(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      []string
	}{
		{"syntax", "def hello(:\n    pass\n", []string{"build.star:1:12: got ':', want ')'"}},
		{"misspelt builtin", "def hello():\n    say(confg.service)\n", []string{"build.star:2:9: undefined: confg (did you mean config?)"}},
		{"misspelt universe", "def hello():\n    return lenn([])\n", []string{"build.star:2:12: undefined: lenn (did you mean len?)"}},
		{"stock step by its bare name", "def hello():\n    pull_on_host('server1')\n", []string{"undefined: pull_on_host (did you mean steps.pull_on_host?)"}},
		{"misspelt stock step", "def hello():\n    pul_on_hostt('server1')\n", []string{"undefined: pul_on_hostt (did you mean steps.pull_on_host?)"}},
		{"nothing close", "def hello():\n    xyzzy_frobnicate()\n", []string{"undefined: xyzzy_frobnicate"}},
		{"helper file", "load('helpers.star', 'f')\n", []string{"helpers.star:2:5: undefined: sayy (did you mean say?)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := userApp(t, "kamal1", map[string]string{userFile: tt.src, ".kamal/scripts/helpers.star": "def f():\n    sayy('x')\n"})
			_, err := newSession(t, dir, userFile)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.name == "nothing close" && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("error %q suggests something far", err)
			}
		})
	}
}

func TestRuntimeErrorsCarryTheBacktraceAndNameTheParameter(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def bad_level():
    """x"""
    _helper()

def _helper():
    local.run(cmd("true"), level = 3)

def bad_host():
    """x"""
    ssh.run(cmd("true"))

def bad_on():
    """x"""
    on(config.hosts, 3)

def bad_hook():
    """x"""
    hook(1)

def bad_log():
    """x"""
    log.info(None)

def bad_secret():
    """x"""
    secret(1)

def bad_kwarg():
    """x"""
    local.run(cmd("true"), levle = "info")

def bad_attr():
    """x"""
    docker.pul("x")
`})
	s := mustSession(t, dir, userFile)
	user := filepath.Join(dir, userFile)
	for _, tt := range []struct{ fn, msg, where string }{
		{"bad_level", `local.run: for parameter "level": got int, want string`, user + ":7:14: in _helper"},
		{"bad_host", "ssh.run: for parameter host: got cmd, want string", user + ":11:12: in bad_host"},
		{"bad_on", "on: for parameter fn: got int, want callable", user + ":15:7: in bad_on"},
		{"bad_hook", "hook: for parameter name: got int, want string", user + ":19:9: in bad_hook"},
		{"bad_log", "log.info: for parameter msg: got NoneType, want string", user + ":23:13: in bad_log"},
		{"bad_secret", "secret: for parameter value: got int, want string", user + ":27:11: in bad_secret"},
		{"bad_kwarg", "local.run: unexpected keyword argument \"levle\" (did you mean level?)", user + ":31:14: in bad_kwarg"},
		{"bad_attr", "has no .pul field or method (did you mean .pull?)", user + ":35:11: in bad_attr"},
	} {
		err := s.call(t, tt.fn)
		var ee *starlark.EvalError
		if !errors.As(err, &ee) {
			t.Errorf("%s: %v, want an evaluation error", tt.fn, err)
			continue
		}
		if !strings.Contains(ee.Msg, tt.msg) {
			t.Errorf("%s: message %q lacks %q", tt.fn, ee.Msg, tt.msg)
		}
		if bt := ee.Backtrace(); !strings.Contains(bt, "Traceback (most recent call last):\n") || !strings.Contains(bt, tt.where) {
			t.Errorf("%s: backtrace lacks %q:\n%s", tt.fn, tt.where, bt)
		}
	}
}

func TestKeywordArgumentsFunctionsTakeAnyOption(t *testing.T) {
	dir := userApp(t, "kamal1", map[string]string{userFile: `
def greet(greeting = "hello", **kwargs):
    say("%s %s" % (greeting, sorted(kwargs.items())))
`})
	s := mustSession(t, dir, userFile)
	kw, err := s.in.Kwargs("greet", []Flag{{Name: "who", Value: "bob", HasValue: true}, {Name: "dry-ish"}, {Name: "greeting", Value: "hi", HasValue: true}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.call(t, "greet", kw...); err != nil {
		t.Fatal(err)
	}
	if want := `hi [("dry_ish", True), ("who", "bob")]` + "\n"; !strings.Contains(s.out.String(), want) {
		t.Errorf("output:\n%s\nwant %q", s.out, want)
	}
	for _, c := range s.in.Commands() {
		if c.Name == "greet" && len(c.Options) != 1 {
			t.Errorf("greet's options = %+v, want only --greeting (kwargs is no option)", c.Options)
		}
	}
}

package builtins

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/hook"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/manifest"
	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// everyBuiltinInOn is one call of every function builtin, as the body of
// a host's thread in on() (host names the host); want is a substring of
// the error the call must raise ("" for none).
var everyBuiltinInOn = map[string]struct{ call, want string }{
	"audit":                   {call: `audit("m")`},
	"breakpoint":              {call: `breakpoint()`},
	"builder.context_hosts":   {call: `builder.context_hosts()`},
	"builder.create":          {call: `builder.create()`},
	"builder.info":            {call: `builder.info()`},
	"builder.inspect":         {call: `builder.inspect()`},
	"builder.remote_ssh":      {call: `builder.remote_ssh()`},
	"builder.remove":          {call: `builder.remove()`},
	"builder.resolve_secrets": {call: `builder.resolve_secrets()`},
	"cmd":                     {call: `cmd("true")`},
	"docker.build":            {call: `docker.build()`},
	"docker.check":            {call: `docker.check()`},
	"docker.image_rm":         {call: `docker.image_rm("app")`},
	"docker.image_id":         {call: `docker.image_id("app")`},
	"registry.manifest":       {call: `registry.manifest()`},
	"docker.included_files":   {call: `docker.included_files()`},
	"docker.logout":           {call: `docker.logout()`},
	"docker.registry_remove":  {call: `docker.registry_remove()`},
	"docker.login":            {call: `docker.login()`},
	"docker.mirror_probe":     {call: `docker.mirror_probe()`},
	"docker.pull":             {call: `docker.pull("app")`},
	"docker.push":             {call: `docker.push("app")`},
	"docker.registry_start":   {call: `docker.registry_start()`},
	"docker.tag":              {call: `docker.tag("a", "b")`},
	"docker.validate_image":   {call: `docker.validate_image("app")`},
	"error":                   {call: `error("RuntimeError", "boom")`, want: "boom"},
	"git.branch":              {call: `git.branch()`},
	"git.clone":               {call: `git.clone()`},
	"git.modified_files":      {call: `git.modified_files()`},
	"git.remove_clone":        {call: `git.remove_clone()`},
	"git.revision":            {call: `git.revision()`},
	"git.root":                {call: `git.root()`},
	"git.uncommitted":         {call: `git.uncommitted()`},
	"git.untracked_files":     {call: `git.untracked_files()`},
	"git.user_name":           {call: `git.user_name()`},
	"hand_off":                {call: `hand_off("--skip-push")`},
	"hook":                    {call: `hook("pre-build")`},
	"local.capture":           {call: `local.capture(cmd("true"))`},
	"local.exists":            {call: `local.exists("Dockerfile")`},
	"local.run":               {call: `local.run(cmd("true"))`},
	"lock.acquire":            {call: `lock.acquire("m")`},
	"lock.around":             {call: `lock.around(lambda: host)`},
	"lock.held":               {call: `lock.held()`},
	"lock.mkdir":              {call: `lock.mkdir()`},
	"lock.remove":             {call: `lock.remove()`},
	"lock.take":               {call: `lock.take("m")`},
	"lock.release":            {call: `lock.release()`},
	"lock.status":             {call: `lock.status()`},
	"log.debug":               {call: `log.debug("m")`},
	"log.error":               {call: `log.error("m")`},
	"log.info":                {call: `log.info("m")`},
	"log.warn":                {call: `log.warn("m")`},
	"on":                      {call: `on([host], lambda h: h)`},
	"say":                     {call: `say("m")`},
	"secret":                  {call: `secret("s")`},
	"shell.any":               {call: `shell.any(cmd("a"), cmd("b"))`},
	"shell.chain":             {call: `shell.chain(cmd("a"), cmd("b"))`},
	"shell.combine":           {call: `shell.combine(cmd("a"), cmd("b"))`},
	"shell.escape":            {call: `shell.escape("a b")`},
	"shell.pipe":              {call: `shell.pipe(cmd("a"), cmd("b"))`},
	"ssh.capture":             {call: `ssh.capture(host, cmd("true"))`},
	"ssh.check_openssh":       {call: `ssh.check_openssh("ssh://kamal@" + host + ":2222")`},
	"ssh.forward":             {call: `ssh.forward([host], 5555, lambda: host)`},
	"ssh.preconnect":          {call: `ssh.preconnect([host])`},
	"ssh.run":                 {call: `ssh.run(host, cmd("true"))`},
	// docker image save goes to refusingLocal, which answers nothing.
	"ssh.serve": {call: `ssh.serve([host], "app:v1", 5555, lambda served: served.ref)`, want: "Cannot serve app:v1"},
}

// TestEveryBuiltinInOnReleasesTheStarlarkLock calls every function
// builtin inside on() with transports that refuse to start anything while
// the calling thread holds the run's Starlark lock: a builtin that waits
// without being registered with Waits fails here instead of running one
// host at a time.
func TestEveryBuiltinInOnReleasesTheStarlarkLock(t *testing.T) {
	env := waitsEnv(t)
	prompt := &refusingDebugger{}
	env.Debugger = prompt
	lookup := ManifestLookup
	ManifestLookup = func(ctx context.Context, image string, _ manifest.Credentials) (*manifest.Manifest, error) {
		return nil, refuse(ctx, "registry lookup")
	}
	t.Cleanup(func() { ManifestLookup = lookup })
	env.HandOff = func(ctx context.Context, extra []string) (int, error) {
		return 0, refuse(ctx, "the app's Kamal")
	}

	var names []string
	for _, g := range globals {
		if g.Fn != nil {
			names = append(names, g.Name())
		}
		for _, m := range g.Members {
			names = append(names, g.Name()+"."+m.Name())
		}
	}
	sort.Strings(names)
	pre := Predeclared(env)
	for _, name := range names {
		c, ok := everyBuiltinInOn[name]
		if !ok {
			t.Errorf("%s: no call in everyBuiltinInOn: add one, so that the test covers it", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			thread := &starlark.Thread{Name: name}
			env.Attach(thread)
			SetContext(thread, context.Background())
			src := "def f(host):\n    return " + c.call + "\nresult = on([\"server1\", \"server2\"], f)\n"
			before := refusals.Load()
			_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, name+".star", src, pre)
			if refusals.Load() != before && err == nil {
				err = executor.ErrLockHeld // refused, and the builtin went on without it
			}
			switch {
			case errors.Is(err, executor.ErrLockHeld) || err != nil && strings.Contains(err.Error(), executor.ErrLockHeld.Error()):
				t.Fatalf("%s waits while its thread holds the Starlark lock (register it with Waits): %v", name, err)
			case c.want == "" && err != nil:
				t.Fatalf("%s: %v", name, err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("%s: error %v, want one containing %q", name, err, c.want)
			}
		})
	}
	if prompt.stops.Load() == 0 {
		t.Error("breakpoint() never reached the debugger")
	}
}

// waitsEnv is a Kamal 2 run of an app with two servers whose local
// commands run here (git, whoami, a hook; the rest answer 0 unrun) and
// whose remote commands and forwards only check the Starlark lock.
func waitsEnv(t *testing.T) *Env {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"config/deploy.yml":      "service: app\nimage: app\nservers:\n  - server1\n  - server2\nregistry:\n  server: 127.0.0.1:5556\n  username: kamal\n  password: secret\nbuilder:\n  arch: amd64\n  driver: docker\n",
		"Dockerfile":             "FROM scratch\n",
		".kamal/hooks/pre-build": "#!/bin/sh\ntrue\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", "c"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	cfg, err := config.Load(config.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := cfg.Select(nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	bld, err := commands.NewBuilder(cfg, "amd64")
	if err != nil {
		t.Fatal(err)
	}
	logger := log.New(io.Discard, false)
	runner := &sshkit.Runner{Log: logger, Local: refusingLocal{}, Remote: refusingRemote{}}
	env := NewEnv(&runstate.State{Dir: dir, Config: cfg, Selection: sel, Log: logger, Version: "v1", Runner: runner, Builder: bld})
	env.Lock = &lock.Lock{Config: cfg, Host: sel.Primary, Runner: runner, Log: logger, Version: "v1"}
	env.Hooks = &hook.Hooks{Config: cfg, Dir: dir, Runner: runner, Log: logger, Version: "v1", Hosts: sel.Hosts,
		Command: "build", Subcommand: "push", Performer: func(context.Context) string { return "t" }, Locked: env.Lock.Held}
	return env
}

// refusingLocal runs git, whoami and the hooks for real (executor.Local
// refuses by itself); anything else answers 0 without running, once it
// has checked the lock.
type refusingLocal struct{}

func (refusingLocal) Run(ctx context.Context, host string, req executor.Request) (int, error) {
	if err := refuse(ctx, "a local command"); err != nil {
		return -1, err
	}
	if strings.HasPrefix(req.Script, "git ") || req.Script == "whoami" || strings.Contains(req.Script, ".kamal/hooks/") {
		return (&executor.Local{}).Run(ctx, host, req)
	}
	return 0, nil
}

// refusingRemote answers every command with 0 and every forward with a
// no-op, once it has checked the lock.
type refusingRemote struct{}

func (refusingRemote) Run(ctx context.Context, host string, _ executor.Request) (int, error) {
	if err := refuse(ctx, "a command on "+host); err != nil {
		return -1, err
	}
	return 0, nil
}

func (refusingRemote) Forward(ctx context.Context, host, _, _ string) (io.Closer, error) {
	if err := refuse(ctx, "a port forward on "+host); err != nil {
		return nil, err
	}
	return io.NopCloser(strings.NewReader("")), nil
}

// refusingDebugger's prompt checks the lock as the runtime's prompt does.
type refusingDebugger struct{ stops atomic.Int32 }

func (*refusingDebugger) Attach(_, _ *starlark.Thread) {}
func (*refusingDebugger) Detach(*starlark.Thread)      {}

func (d *refusingDebugger) Breakpoint(thread *starlark.Thread) error {
	d.stops.Add(1)
	return refuse(Context(thread), "a prompt")
}

// refusals counts the refusals of the fakes: a builtin that swallows the
// error (whoami's "Unknown") still fails the test.
var refusals atomic.Int32

func refuse(ctx context.Context, what string) error {
	err := executor.Refuse(ctx, what)
	if err != nil {
		refusals.Add(1)
	}
	return err
}

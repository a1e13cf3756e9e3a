package config

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/inputfile"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// shell runs the commands that ERB backticks and dotenv $(...) name, as
// Ruby's backticks do: /bin/sh -c in the app directory, stdin and stderr
// inherited, stdout captured. They run through executor.Local, the one
// local command runner, in their own process group: when ctx is cancelled
// (Ctrl-C while the config loads, also in a dry run, where Kamal runs them
// too) the whole group is ended.
type shell struct {
	ctx    context.Context // nil: never cancelled
	dir    string
	env    []string // nil: the process environment
	stderr io.Writer
	// inline runs `kamal secrets ...` in-process (Options.InlineSecrets).
	inline func(args []string) (string, error)
}

// errCommandInterrupted is returned (wrapped) by shell.output when the
// load was interrupted: the callers name the command as written.
var errCommandInterrupted = errors.New("interrupted")

// output runs command and returns its stdout and exit status. err is
// non-nil only when the command could not be run at all, or was cut off
// by ctx (then it wraps errCommandInterrupted). err never quotes command,
// which may hold secrets substituted into it.
func (sh *shell) output(command string) (stdout string, status int, err error) {
	ctx := sh.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	env := sh.env
	if env == nil {
		env = os.Environ()
	}
	stderr := sh.stderr
	if stderr == nil {
		stderr = os.Stderr
	}
	var out bytes.Buffer
	status, err = (&executor.Local{Shell: "/bin/sh", Grace: executor.LoadGrace}).Run(ctx, "", executor.Request{
		Script: command, Env: env, WholeEnv: true, Dir: sh.dir,
		Stdin: os.Stdin, Stdout: &out, Stderr: stderr,
		Terminal: executor.ForegroundTerminal(os.Stdin),
	})
	if errors.Is(err, executor.ErrTerminalInterrupt) {
		executor.InterruptSelf(ctx)
		return "", -1, errCommandInterrupted
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", -1, errCommandInterrupted
		}
		return "", -1, err
	}
	return out.String(), status, nil
}

// interrupted is the load's error for a command cut off by an interrupt:
// what names the command as the user wrote it.
func interrupted(what string) error {
	return newError(kamalerr.ClassInterrupt, "Interrupted while running %s", what)
}

// environ returns the process environment with KAMAL_DESTINATION set to
// dest, or removed when dest is empty (what Kamal 2 does before it renders
// the configuration), plus extra variables that are not already set.
func environ(dest string, extra map[string]string) []string {
	base := os.Environ()
	env := make([]string, 0, len(base)+len(extra)+1)
	seen := map[string]bool{}
	for _, kv := range base {
		k, _, _ := cutEnv(kv)
		if k == "KAMAL_DESTINATION" {
			continue
		}
		seen[k] = true
		env = append(env, kv)
	}
	for k, v := range extra {
		if !seen[k] && k != "KAMAL_DESTINATION" {
			env = append(env, k+"="+v)
		}
	}
	if dest != "" {
		env = append(env, "KAMAL_DESTINATION="+dest)
	}
	return env
}

func cutEnv(kv string) (string, string, bool) {
	for i := 1; i < len(kv); i++ { // a leading '=' belongs to the name (Windows)
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// erbHost is what a configuration's ERB consults (ruby.Host): the
// loader's environment and shell, the file system, and the dotenv parser
// for Dotenv.load.
type erbHost struct {
	getenv func(string) (string, bool)
	run    func(command string, extra map[string]string) (string, int, error)
	// readFile reads a file for File.read and Dotenv.load (nil:
	// os.ReadFile); the fuzz targets stub it.
	readFile func(string) ([]byte, error)
}

func (h erbHost) Getenv(key string) (string, bool) { return h.getenv(key) }

func (h erbHost) Run(command string, extra map[string]string) (string, int, error) {
	return h.run(command, extra)
}

func (h erbHost) ReadFile(path string) ([]byte, error) {
	if h.readFile != nil {
		return h.readFile(path)
	}
	// Bounded like every input (a File.read("/dev/zero") in the ERB).
	return inputfile.ReadFile(path, path)
}

// Dotenv parses with dotenv 3's rules in Dotenv.load's non-overwrite mode.
func (h erbHost) Dotenv(name, src string, getenv func(string) (string, bool), run func(string) (string, int, error)) ([]ruby.KV, error) {
	entries, err := parseDotenv(src, dotenvOptions{name: name, getenv: getenv, run: run, keepEnv: true})
	if err != nil {
		return nil, err
	}
	kvs := make([]ruby.KV, len(entries))
	for i, e := range entries {
		kvs[i] = ruby.KV{Key: e.key, Value: e.value}
	}
	return kvs, nil
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/kamal-go/kamal/runtime/ruby"
)

// shell runs the commands that ERB backticks and dotenv $(...) name, as
// Ruby's backticks do: /bin/sh -c in the app directory, stdin and stderr
// inherited, stdout captured.
type shell struct {
	dir    string
	env    []string // nil: the process environment
	stderr io.Writer
	// inline runs `kamal secrets ...` in-process (Options.InlineSecrets).
	inline func(args []string) (string, error)
}

// output runs command and returns its stdout and exit status. err is
// non-nil only when the command could not be run at all.
func (sh *shell) output(command string) (stdout string, status int, err error) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir = sh.dir
	cmd.Env = sh.env
	cmd.Stdin = os.Stdin
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = sh.stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode(), nil
	}
	if err != nil {
		return "", -1, fmt.Errorf("running %q: %w", command, err)
	}
	return out.String(), 0, nil
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
	return os.ReadFile(path)
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

package ruby

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// testHost is a Host over plain functions. Its Dotenv reads KEY=VALUE
// lines only, like the stand-in TestERBMatchesRuby gives Ruby (the real
// parser is config's, tested there).
type testHost struct {
	getenv   func(string) (string, bool)
	run      func(command string, extra map[string]string) (string, int, error)
	readFile func(string) ([]byte, error) // nil: os.ReadFile
}

func (h *testHost) Getenv(k string) (string, bool) { return h.getenv(k) }

func (h *testHost) Run(c string, extra map[string]string) (string, int, error) {
	return h.run(c, extra)
}

func (h *testHost) ReadFile(p string) ([]byte, error) {
	if h.readFile != nil {
		return h.readFile(p)
	}
	return os.ReadFile(p)
}

func (h *testHost) Dotenv(_, src string, getenv func(string) (string, bool), _ func(string) (string, int, error)) ([]KV, error) {
	var out []KV
	for _, line := range strings.Split(src, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if _, set := getenv(k); !set {
				out = append(out, KV{k, v})
			}
		}
	}
	return out, nil
}

// shellOutput runs command with /bin/sh in dir, as Ruby's backticks do.
func shellOutput(dir string, env []string, command string) (string, int, error) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return out.String(), exit.ExitCode(), nil
	}
	if err != nil {
		return "", -1, err
	}
	return out.String(), 0, nil
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func eq[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

// wantError checks err is an *Error with class and message.
func wantError(t *testing.T, err error, class, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s: %s", class, msg)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Class != class || e.Message != msg {
		t.Fatalf("got error\n  (%s) %s\nwant\n  (%s) %s", e.Class, e.Message, class, msg)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}

package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// base configurations the table tests start from.
const (
	v1Base = `service: app
image: dhh/app
servers:
  - 1.1.1.1
registry:
  username: dhh
  password: secret
`
	v2Base = v1Base + `builder:
  arch: amd64
`
)

// fixture is an app directory: files (relative path -> content) and the
// environment Load sees.
type fixture struct {
	files map[string]string
	env   map[string]string
	dest  string
	path  string
}

func (fx fixture) dir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range fx.files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o600)
		if strings.Contains(name, "hooks/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (fx fixture) options(dir string) Options {
	return Options{
		Dir:         dir,
		Path:        fx.path,
		Destination: fx.dest,
		Getenv:      mapEnv(fx.env),
		Stderr:      io.Discard,
	}
}

func (fx fixture) load(t *testing.T) (*Config, error) {
	t.Helper()
	return Load(fx.options(fx.dir(t)))
}

func mapEnv(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// deploy is a fixture with just config/deploy.yml.
func deploy(yml string) fixture {
	return fixture{files: map[string]string{"config/deploy.yml": yml}}
}

func (fx fixture) with(name, content string) fixture {
	files := map[string]string{}
	for k, v := range fx.files {
		files[k] = v
	}
	files[name] = content
	fx.files = files
	return fx
}

func (fx fixture) withEnv(kv ...string) fixture {
	env := map[string]string{}
	for k, v := range fx.env {
		env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	fx.env = env
	return fx
}

func (fx fixture) withDest(d string) fixture { fx.dest = d; return fx }

// mustLoad loads and fails the test on error.
func mustLoad(t *testing.T, fx fixture) *Config {
	t.Helper()
	c, err := fx.load(t)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
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

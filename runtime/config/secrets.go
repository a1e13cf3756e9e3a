package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kamal-go/kamal/runtime/inputfile"
)

// Secrets resolves secret names to values.
//
// Kamal 2 reads <secrets_path>-common, then <secrets_path> (no destination)
// or <secrets_path>.<destination>; missing files are skipped and later
// files win. The files are parsed lazily, once, on the first lookup, under
// a mutex, each on its own (a ${VAR} reference sees earlier keys of the
// same file, then the process environment). A parse or command failure is
// remembered and returned by every later lookup.
//
// Kamal 1 has no secrets files: a name is looked up in the process
// environment, then in the values loaded from .env files.
//
// Every value handed out is recorded for redaction (Values).
// A *Secrets is safe for concurrent use.
type Secrets struct {
	gen      Generation
	dir      string
	path     string // secrets_path as configured
	dest     string
	getenv   func(string) (string, bool) // process env (+ .env for Kamal 1)
	sh       *shell
	mu       sync.Mutex
	loaded   bool
	values   map[string]string
	order    []string
	existing []string // files found, as configured (relative)
	err      error
	seen     map[string]bool
	recorded []string
	onSecret func(values ...string) // Options.OnSecret
}

func newSecrets(gen Generation, dir, path, dest string, getenv func(string) (string, bool), sh *shell) *Secrets {
	return &Secrets{gen: gen, dir: dir, path: path, dest: dest, getenv: getenv, sh: sh, seen: map[string]bool{}}
}

// Filenames returns the secrets files Kamal 2 would read, as configured
// (common first).
func (s *Secrets) Filenames() []string {
	specific := s.path
	if s.dest != "" {
		specific += "." + s.dest
	}
	return []string{s.path + "-common", specific}
}

func (s *Secrets) abs(name string) string { return inDir(s.dir, name) }

// inDir is name, relative to dir unless absolute, as Ruby opens it: not
// cleaned. A destination is pasted into file names, and cleaning
// ".kamal/secrets.../../x" would turn a path the kernel refuses (no
// directory "secrets...") into one outside the app.
func inDir(dir, name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return dir + string(filepath.Separator) + name
}

// load parses the files once. Callers hold s.mu.
func (s *Secrets) load() error {
	if s.loaded {
		return s.err
	}
	s.loaded = true
	s.values = map[string]string{}
	for _, name := range s.Filenames() {
		data, err := inputfile.ReadFile(s.abs(name), name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			s.err = err
			return s.err
		}
		s.existing = append(s.existing, name)
		entries, err := parseDotenv(string(data), dotenvOptions{
			name:   name,
			getenv: s.getenv,
			run:    s.sh.output,
			inline: s.sh.inline,
		})
		if err != nil {
			s.err = err
			return err
		}
		for _, e := range entries {
			if _, ok := s.values[e.key]; !ok {
				s.order = append(s.order, e.key)
			}
			s.values[e.key] = e.value
			if s.onSecret != nil {
				// Every value of a secrets file is secret, used or not.
				s.onSecret(e.value)
			}
		}
	}
	return nil
}

// Lookup returns the value of the secret name.
//
// Kamal 2, not found: Kamal::ConfigurationError
// "Secret 'NAME' not found in <files>" or, when no file exists,
// "Secret 'NAME' not found, no secret files (<common>, <specific>) provided".
// Kamal 1, not found: KeyError `key not found: "NAME"`.
func (s *Secrets) Lookup(name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != Kamal2 {
		v, ok := s.getenv(name)
		if !ok {
			return "", keyNotFound(name)
		}
		s.record(v)
		return v, nil
	}
	if err := s.load(); err != nil {
		return "", err
	}
	v, ok := s.values[name]
	if !ok {
		if len(s.existing) > 0 {
			return "", configErrorf("Secret '%s' not found in %s", name, strings.Join(s.existing, ", "))
		}
		return "", configErrorf("Secret '%s' not found, no secret files (%s) provided", name, strings.Join(s.Filenames(), ", "))
	}
	s.record(v)
	return v, nil
}

// has reports whether name is defined (Kamal 2 files; Kamal 1 env).
func (s *Secrets) has(name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != Kamal2 {
		_, ok := s.getenv(name)
		return ok, nil
	}
	if err := s.load(); err != nil {
		return false, err
	}
	_, ok := s.values[name]
	return ok, nil
}

// All returns every secret from the files in file order (Kamal 2 exports
// them to pre-connect, pre-deploy and post-deploy hooks). Kamal 1: empty.
func (s *Secrets) All() ([]KV, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gen != Kamal2 {
		return nil, nil
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	out := make([]KV, 0, len(s.order))
	for _, k := range s.order {
		v := s.values[k]
		s.record(v)
		out = append(out, KV{Key: k, Value: v, IsEmpty: v == ""})
	}
	return out, nil
}

// Files returns the secrets files that exist (after the first lookup),
// as configured.
func (s *Secrets) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.existing...)
}

// record notes a value handed out. Callers hold s.mu.
func (s *Secrets) record(v string) {
	if v == "" || s.seen[v] {
		return
	}
	s.seen[v] = true
	s.recorded = append(s.recorded, v)
	if s.onSecret != nil {
		s.onSecret(v)
	}
}

// Values returns the values handed out so far, in first-use order.
func (s *Secrets) Values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.recorded...)
}

// Secret returns the value of the secret name: from the secrets files
// (Kamal 2) or the environment and .env files (Kamal 1). See
// Secrets.Lookup for the errors.
func (c *Config) Secret(name string) (string, error) {
	return c.Secrets().Lookup(name)
}

// Secrets returns the resolver behind Secret. For a Config not made by
// Load (a literal in a test) it returns a fresh resolver on each call.
func (c *Config) Secrets() *Secrets {
	if c.secrets != nil {
		return c.secrets
	}
	path := c.SecretsPath
	if path == "" {
		path = ".kamal/secrets"
	}
	return newSecrets(c.Generation, c.dir, path, c.Destination, c.Getenv, &shell{dir: c.dir})
}

// Resolve returns a Value's string: the literal, or the named secret.
func (c *Config) Resolve(v Value) (string, error) {
	if v.Secret == "" {
		return v.Literal, nil
	}
	return c.Secret(v.Secret)
}

// SecretValues returns every secret value resolved so far plus the
// registry username and password when given literally, for the logger to
// redact. Safe for concurrent use.
func (c *Config) SecretValues() []string {
	vals := c.Secrets().Values()
	seen := make(map[string]bool, len(vals)+2)
	for _, v := range vals {
		seen[v] = true
	}
	for _, v := range []Value{c.Registry.Username, c.Registry.Password} {
		if v.Secret == "" && v.Literal != "" && !seen[v.Literal] {
			seen[v.Literal] = true
			vals = append(vals, v.Literal)
		}
	}
	return vals
}

// SSHKeyData returns ssh.key_data resolved. Kamal 2: an entry naming a
// known secret is replaced by its value; any other entry is used as given
// and reported in warnings with Kamal's deprecation message. Kamal 1: the
// entries as given.
func (c *Config) SSHKeyData() (data []string, warnings []string, err error) {
	for _, v := range c.SSH.KeyData {
		if v.Secret == "" {
			data = append(data, v.Literal)
			continue
		}
		ok, err := c.Secrets().has(v.Secret)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			data = append(data, v.Secret)
			warnings = append(warnings, inlineKeyDataWarning)
			continue
		}
		s, err := c.Secret(v.Secret)
		if err != nil {
			return nil, nil, err
		}
		data = append(data, s)
	}
	return data, warnings, nil
}

const inlineKeyDataWarning = "Inline key_data usage is deprecated and will be removed in Kamal 3. Please store your key_data in a secret."

// DotEnv returns the variables Kamal 1 loaded from .env files (.env.<dest>
// then .env; the first definition wins and variables already in the
// process environment are not included). The runtime exports them to
// hooks and commands. Kamal 2: nil.
func (c *Config) DotEnv() map[string]string {
	if c.dotenv == nil {
		return nil
	}
	out := make(map[string]string, len(c.dotenv))
	for k, v := range c.dotenv {
		out[k] = v
	}
	return out
}

// Getenv looks a variable up as Kamal would see it in its process
// environment: the real environment, then (Kamal 1) the .env files.
func (c *Config) Getenv(key string) (string, bool) {
	getenv := c.getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	if v, ok := getenv(key); ok {
		return v, true
	}
	v, ok := c.dotenv[key]
	return v, ok
}

// loadDotenvFiles loads Kamal 1's .env files from dir: .env.<dest> then
// .env, the first definition winning and the process environment (getenv)
// never overridden. Missing files are skipped.
func loadDotenvFiles(dir, dest string, getenv func(string) (string, bool), sh *shell) (map[string]string, error) {
	names := []string{".env"}
	if dest != "" {
		names = []string{".env." + dest, ".env"}
	}
	loaded := map[string]string{}
	lookup := func(k string) (string, bool) {
		if v, ok := getenv(k); ok {
			return v, true
		}
		v, ok := loaded[k]
		return v, ok
	}
	for _, name := range names {
		data, err := inputfile.ReadFile(inDir(dir, name), name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		entries, err := parseDotenv(string(data), dotenvOptions{name: name, getenv: lookup, run: sh.output, keepEnv: true})
		if err != nil {
			return nil, err
		}
		fileVals := map[string]string{}
		for _, e := range entries {
			fileVals[e.key] = e.value
		}
		for k, v := range fileVals {
			if _, ok := lookup(k); !ok {
				loaded[k] = v
			}
		}
	}
	return loaded, nil
}

// PlainText returns every string of the configuration that is not a
// secret: keys and values of the merged document (hosts, image, service,
// labels, clear env...) and the destination, without the literal
// registry passwords and ssh key_data, which are secrets. A logger uses it
// so that scrubbing never changes the config's own text.
func (c *Config) PlainText() []string {
	var out []string
	if c.Destination != "" {
		out = append(out, c.Destination)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				p := k
				if path != "" {
					p = path + "/" + k
				}
				if isSecretPath(p) {
					continue
				}
				out = append(out, k)
				walk(p, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		case nil:
		default:
			out = append(out, rubyString(v))
		}
	}
	walk("", c.Raw)
	return out
}

// isSecretPath: the config values that are secrets when written inline.
func isSecretPath(p string) bool {
	if p == "registry/password" || p == "ssh/key_data" {
		return true
	}
	return strings.HasPrefix(p, "accessories/") && strings.HasSuffix(p, "/registry/password")
}

package config

import (
	"strings"
	"sync"
	"testing"

	"os"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// FuzzLoadYAMLERB runs a whole config file through the loader's steps:
// ERB (commands stubbed), YAML, generation detection, decoding and
// validation. Whatever the input, it must end in a config or an *Error
// (Kamal's one-line error), never a panic or another error type.
func FuzzLoadYAMLERB(f *testing.F) {
	for _, s := range []string{
		"service: app\nimage: app\nservers: [a, b]\nregistry: {username: u, password: p}\n",
		"service: app\nimage: app\nservers:\n  web: [a]\n  job:\n    hosts: [b]\nbuilder:\n  arch: amd64\n",
		"service: <%= ENV['X'] %>\nimage: a\nservers: [\"<%= `cmd` %>\"]\nregistry: {username: u, password: [P]}\n",
		"service: app\nimage: app\nservers: [a]\nssh: {connect_timeout: 0}\nsshkit: {command_timeout: 5}\n",
		"a: &x {b: 1}\nc: *x\n<<: *x\n", "service: [\n", "- 1\n- 2\n", "service: app\nbogus: 1\n", "",
		"service: app\nimage: app\nservers: [a]\nbuilder: {remote: ssh://x, local: true, arch: [amd64, arm64]}\n",
		"service: app\nimage: a\nregistry: {username: u, password: p}\nbuilder: {arch: amd64}\nservers:\n  web: {hosts: [a, b], proxy: {ssl: true}}\n" +
			"proxy: {host: x, ssl: {certificate_pem: C}}\nenv: {clear: {A: 1}, secret: [B], tags: {t: {C: d}}}\n" +
			"accessories: {db: {image: m, roles: [web, x], env: {secret: S}, files: [{local: a}], proxy: {}}}\naliases: {Deploy: [a]}\nboot: {limit: 25%}\n",
	} {
		f.Add(s)
	}
	// One empty app directory for every input: a directory per input cost
	// more than the load itself (the loader only reads from it).
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		l, err := newLoader(Options{Dir: dir, Getenv: mapEnv(map[string]string{"X": "1"})})
		if err != nil {
			t.Fatal(err)
		}
		cx := &ruby.Context{
			Name: "config/deploy.yml",
			Host: erbHost{
				getenv:   l.env(nil),
				run:      func(string, map[string]string) (string, int, error) { return "out\n", 0, nil },
				readFile: fuzzReadFile,
			},
		}
		text, err := ruby.Render(src, cx)
		if err == nil {
			err = cx.FetchErr
		}
		var raw *mapping
		if err == nil {
			raw, err = parseYAML("config/deploy.yml", []byte(text))
		}
		if err == nil {
			err = l.choose(raw, nil)
		}
		if err == nil {
			var c *Config
			c, err = l.build(raw, l.release.Generation(), nil)
			if err == nil && (c.Service == "" || len(c.AllHosts()) == 0 && !c.AllowEmptyRoles) {
				t.Fatalf("a config without service or hosts was accepted: %+v", c)
			}
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
			if e.Class == "" {
				t.Fatalf("error without a class: %v", e)
			}
			if strings.Contains(e.Message, "\x00") {
				t.Fatalf("message with a NUL byte: %q", e.Message)
			}
		}
	})
}

// FuzzHostPatterns matches --hosts and --roles patterns against a fixed
// config: selection either fails with Kamal's ArgumentError or returns
// configured hosts and roles only, primary among them; fnmatch never
// panics, a pattern without metacharacters matches only itself, and "*"
// matches every name not starting with ".".
func FuzzHostPatterns(f *testing.F) {
	for _, s := range []string{"1.1.1.1", "1.1.1.*", "*", "?.1.1.1", "1.1.1.[1-3]", "1.1.1.{1,5}", "{a,{b,c}}", "\\*", "[!1]*", "web", "w*", "", "{", "[", "a{b,c", "[]]", "{,}"} {
		f.Add(s, "web")
	}
	var once sync.Once
	var loaded *Config
	cfg := func(t *testing.T) *Config {
		once.Do(func() { loaded = mustLoad(t, deploy(hostsConfig)) })
		return loaded
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 256 {
			return
		}
		got := ruby.Fnmatch(pattern, name)
		if !strings.ContainsAny(pattern, "*?[{\\") && got != (pattern == name) {
			t.Fatalf("Fnmatch(%q, %q) = %v", pattern, name, got)
		}
		if pattern == "*" && !strings.HasPrefix(name, ".") && !got {
			t.Fatalf("* does not match %q", name)
		}
		c := cfg(t)
		all := map[string]bool{}
		for _, h := range c.AllHosts() {
			all[h] = true
		}
		roles := map[string]bool{}
		for _, r := range c.Roles {
			roles[r.Name] = true
		}
		for _, args := range [][2][]string{{{pattern}, nil}, {nil, {pattern}}, {{pattern, name}, {name}}} {
			sel, err := c.Select(args[0], args[1], len(name)%2 == 0)
			if err != nil {
				if e, ok := err.(*Error); !ok || e.Class != kamalerr.ClassArgument {
					t.Fatalf("Select(%q, %q): %T %v", args[0], args[1], err, err)
				}
				continue
			}
			for _, h := range sel.Hosts {
				if !all[h] {
					t.Fatalf("Select(%q, %q) selected unknown host %q", args[0], args[1], h)
				}
			}
			for _, r := range sel.Roles {
				if !roles[r] {
					t.Fatalf("Select(%q, %q) selected unknown role %q", args[0], args[1], r)
				}
			}
			if sel.Primary != "" && !all[sel.Primary] {
				t.Fatalf("Select(%q, %q): unknown primary %q", args[0], args[1], sel.Primary)
			}
		}
	})
}

// fuzzReadFile stands in for the file system: a fuzzer's File.read
// ("/dev/zero", "/dev/stdin") must not block or fill memory.
func fuzzReadFile(path string) ([]byte, error) {
	if strings.HasSuffix(path, "missing") {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	return []byte("A=1\nB=\"two\"\n"), nil
}

package config

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kamal-go/kamal/runtime/inputfile"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/ruby"
)

// DefaultPath is the configuration file used when Options.Path is empty.
const DefaultPath = "config/deploy.yml"

// Load reads the configuration the way Kamal does and validates it.
//
// The file is Options.Path (default config/deploy.yml) relative to
// Options.Dir; with a Destination, the overlay is the same path with its
// last extension replaced by ".<dest>.yml". A missing file is a
// RuntimeError "Configuration file not found in <absolute path>". Each file
// is rendered with the ERB subset (package ruby), parsed as YAML (anchors,
// aliases and merge keys allowed), and the overlay is deep-merged over the
// base. The Kamal release to follow is then chosen (see chooseRelease:
// Gemfile.lock, minimum_version, builder keys) and the result validated
// with that generation's messages; errors are *Error.
//
// Kamal 1 loads .env.<dest> and .env into its environment before anything
// else, so ERB sees their variables: when a Kamal 1 configuration looked up
// a variable that only a .env file defines, it is rendered again with them.
func Load(opts Options) (*Config, error) {
	l, err := newLoader(opts)
	if err != nil {
		return nil, err
	}
	raw, res, err := l.read(nil, true)
	if err := l.choose(raw, err); err != nil {
		return nil, err
	}
	var dot map[string]string
	if l.release.Generation() == Kamal1 {
		var derr error
		dot, derr = loadDotenvFiles(l.dir, l.dest, l.getenv, l.shell(nil))
		if derr != nil {
			return nil, derr
		}
		if slices.ContainsFunc(res.misses, func(k string) bool { _, ok := dot[k]; return ok }) {
			raw, res, err = l.read(dot, false)
			if err := l.choose(raw, err); err != nil {
				return nil, err
			}
		}
	}
	if res.fetchErr != nil {
		return nil, res.fetchErr
	}
	if err != nil {
		return nil, err
	}
	if l.release.Generation() == Kamal2 {
		dot = nil
	}
	return l.build(raw, l.release.Generation(), dot)
}

// choose sets l.release from the rendering raw (nil when readErr says it
// failed: then only the lock file can decide).
func (l *loader) choose(raw *mapping, readErr error) error {
	if readErr != nil {
		raw = nil
	}
	r, reason, err := l.chooseRelease(raw)
	if err != nil {
		return err
	}
	l.release, l.releaseReason = r, reason
	return nil
}

type loader struct {
	dir    string
	dest   string
	getenv func(string) (string, bool)
	stderr io.Writer
	files  []configFile
	opts   Options
	// release is the Kamal release the run follows (chooseRelease), and
	// releaseReason why.
	release       Release
	releaseReason string
}

type configFile struct {
	name string // as given, for messages ("config/deploy.yml")
	abs  string
}

func newLoader(opts Options) (*loader, error) {
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, newError(kamalerr.ClassRuntime, "%v", err)
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, newError(kamalerr.ClassRuntime, "%v", err)
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	path := opts.Path
	if path == "" {
		path = DefaultPath
	}
	l := &loader{dir: dir, dest: opts.Destination, getenv: getenv, stderr: opts.Stderr, opts: opts}
	base := absIn(dir, path)
	l.files = append(l.files, configFile{name: path, abs: base})
	if opts.Destination != "" {
		// Kamal: Pathname#sub_ext on the expanded base path, not cleaned
		// after (see inDir): -d ../../x/evil is not found, as in Kamal.
		l.files = append(l.files, configFile{name: OverlayPath(path, opts.Destination), abs: OverlayPath(base, opts.Destination)})
	}
	return l, nil
}

func absIn(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

// EmptyDestination is the load of an empty destination (-d ""): Kamal
// pastes it into the overlay's name and requires dir's config/deploy..yml
// (path's, when given), which no app has: "Configuration file not found".
// When that file does exist, kamal-go refuses the empty destination in
// one line rather than follow Kamal's empty-string destination (a
// "KAMAL_DESTINATION=" environment, a ".kamal/secrets." file, ...).
func EmptyDestination(dir, path string) error {
	if path == "" {
		path = DefaultPath
	}
	ov := OverlayPath(absIn(dir, path), "")
	if _, err := os.Stat(ov); err != nil {
		return newError(kamalerr.ClassRuntime, "Configuration file not found in %s", ov)
	}
	return newError(kamalerr.ClassArgument, "an empty destination (-d '') is not supported (its overlay would be %s)", ov)
}

// OverlayPath is Ruby's Pathname#sub_ext(".<dest>.yml"): the last
// extension of the file name is replaced (or, without one, appended).
func OverlayPath(path, dest string) string {
	dirPart, base := filepath.Split(path)
	name := base
	if i := strings.LastIndexByte(base, '.'); i > 0 && i < len(base)-1 {
		name = base[:i]
	}
	return dirPart + name + "." + dest + ".yml"
}

// readResult is what one rendering learned about the environment.
type readResult struct {
	misses   []string
	fetchErr error
}

// env is the environment ERB sees: KAMAL_DESTINATION is the destination
// (unset without one, as Kamal 2 does), then the process environment, then
// the .env values (Kamal 1).
func (l *loader) env(dot map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		if k == "KAMAL_DESTINATION" {
			return l.dest, l.dest != ""
		}
		if v, ok := l.getenv(k); ok {
			return v, true
		}
		v, ok := dot[k]
		return v, ok
	}
}

func (l *loader) shell(dot map[string]string) *shell {
	return &shell{ctx: l.opts.Context, dir: l.dir, env: environ(l.dest, dot), stderr: l.stderr, inline: l.opts.InlineSecrets}
}

// erbRun runs an ERB command; extra (what Dotenv.load set) joins the
// environment.
func (l *loader) erbRun(sh *shell, dot map[string]string) func(string, map[string]string) (string, int, error) {
	return func(cmd string, extra map[string]string) (string, int, error) {
		run := sh
		if len(extra) > 0 {
			run = &shell{ctx: l.opts.Context, dir: l.dir, env: environ(l.dest, mergeEnv(dot, extra)), stderr: l.stderr}
		}
		out, status, err := run.output(cmd)
		if errors.Is(err, errCommandInterrupted) {
			return "", -1, interrupted("`" + cmd + "`")
		}
		return out, status, err
	}
}

// rubyERB renders with Ruby in the environment ERB commands get.
func (l *loader) rubyERB(dot map[string]string) *ruby.External {
	return &ruby.External{Context: l.opts.Context, OnFailedEnvReads: l.opts.OnSecret, Dir: l.dir, Stderr: l.stderr, Env: func(extra map[string]string) []string {
		return environ(l.dest, mergeEnv(dot, extra))
	}}
}

// mergeEnv is a's variables, then b's where a has none.
func mergeEnv(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range b {
		out[k] = v
	}
	for k, v := range a {
		out[k] = v
	}
	return out
}

// read renders, parses and merges the files. lenient defers ENV.fetch
// failures to res.fetchErr.
func (l *loader) read(dot map[string]string, lenient bool) (*mapping, readResult, error) {
	var res readResult
	sh := l.shell(dot)
	loaded := map[string]string{} // what Dotenv.load in the ERB set
	merged := newMapping()
	for _, file := range l.files {
		data, err := inputfile.ReadFile(file.abs, file.abs)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, res, newError(kamalerr.ClassRuntime, "Configuration file not found in %s", file.abs)
			}
			return nil, res, err
		}
		getenv, read := recordReads(l.env(dot))
		cx := &ruby.Context{
			Name:    file.name,
			Dir:     l.dir,
			Host:    erbHost{getenv: getenv, run: l.erbRun(sh, dot)},
			Lenient: lenient,
			Loaded:  loaded,
			Ruby:    l.rubyERB(dot).Render,
		}
		text, err := ruby.Render(string(data), cx)
		res.misses = append(res.misses, cx.Misses...)
		if res.fetchErr == nil {
			res.fetchErr = cx.FetchErr
		}
		if err != nil {
			if l.opts.OnSecret != nil {
				// Ruby's message may quote a value ERB read from ENV
				// (Integer(ENV["KAMAL_REGISTRY_PASSWORD"])): which of them
				// are secrets cannot be known from a config that did not
				// render, so each is scrubbed from the error as a secret.
				l.opts.OnSecret(*read...)
			}
			return nil, res, err
		}
		doc, err := parseYAML(file.name, []byte(text))
		if err != nil {
			return nil, res, err
		}
		merged = deepMerge(merged, doc)
	}
	return merged, res, nil
}

// recordReads wraps getenv to note every value it returns.
func recordReads(getenv func(string) (string, bool)) (func(string) (string, bool), *[]string) {
	var read []string
	return func(k string) (string, bool) {
		v, ok := getenv(k)
		if ok && v != "" {
			read = append(read, v)
		}
		return v, ok
	}, &read
}

// detectGeneration says Kamal 2 when the builder section uses a key only
// Kamal 2 has: arch, driver, a string remote, a boolean local, pack,
// provenance or sbom, and names the key. Anything else, including no
// builder, is Kamal 1.
func detectGeneration(raw *mapping) (Generation, string) {
	b, _ := raw.get("builder")
	m, ok := b.(*mapping)
	if !ok {
		return Kamal1, ""
	}
	for _, k := range []string{"arch", "driver", "pack", "provenance", "sbom"} {
		if _, ok := m.get(k); ok {
			return Kamal2, k
		}
	}
	if r, ok := m.get("remote"); ok {
		if _, ok := r.(string); ok {
			return Kamal2, "remote (a string)"
		}
	}
	if lv, ok := m.get("local"); ok {
		if _, ok := lv.(bool); ok {
			return Kamal2, "local (a boolean)"
		}
	}
	return Kamal1, ""
}

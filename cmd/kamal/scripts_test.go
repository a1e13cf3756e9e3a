package main

// User scripts through the command line: which files load (--script, -d),
// help for new subcommands, kamal build script/eject, --trace and
// --dry-run, and the error a script bug ends with. Runs the built binary in
// the REPL tests' app; no server is contacted.

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestHelpListsTheUsersSubcommands(t *testing.T) {
	a := newReplApp(t)
	out, _, code := a.pipe(t, "", "build", "help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !regexp.MustCompile(`(?m)^  kamal build hello +# Greet, then stop at a breakpoint\.$`).MatchString(out) {
		t.Errorf("kamal build help does not list hello with its first docstring line:\n%s", out)
	}
	if strings.Contains(out, "kamal build where") || strings.Contains(out, "twice") {
		t.Errorf("kamal build help lists the destination's script or a loaded helper without -d:\n%s", out)
	}
	out, _, _ = a.pipe(t, "", "build", "help", "-d", "staging")
	wantLines(t, "kamal build help -d staging", out, "kamal build where", "# Say which destination's script this is")

	out, _, code = a.pipe(t, "", "build", "help", "hello")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantLines(t, "kamal build help hello", out, "Usage:\n  kamal build hello", "Greet, then stop at a breakpoint.", "The breakpoint sees tag and greeting.")
}

func TestScriptOptionReplacesTheDefaultUserScript(t *testing.T) {
	a := newReplApp(t)
	other := filepath.Join(t.TempDir(), "other.star")
	os.WriteFile(other, []byte("def bye(name = \"you\"):\n    \"\"\"Say bye\"\"\"\n    say(\"bye \" + name)\n"), 0o644)
	out, _, code := a.pipe(t, "", "build", "bye", "--name", "Ann", "--script", other)
	if code != 0 || out != "bye Ann\n" {
		t.Errorf("exit %d, output %q; want 0 and \"bye Ann\"", code, out)
	}
	out, _, _ = a.pipe(t, "", "build", "help", "--script", other)
	if !strings.Contains(out, "kamal build bye") || strings.Contains(out, "kamal build hello") {
		t.Errorf("--script should replace .kamal/scripts/build.star:\n%s", out)
	}
}

func TestScriptShowsTheEffectiveScriptWithOrigins(t *testing.T) {
	a := newReplApp(t)
	out, _, code := a.pipe(t, "", "build", "script")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	user := filepath.Join(a.dir, ".kamal/scripts/build.star")
	wantLines(t, "kamal build script", out, "# from @kamal//build.star:", "def pull_on_host(host):", "# from "+user+":3\ndef hello(tag = \"v1\"):")
}

func TestEjectWritesTheStockScriptAndNeverOverwrites(t *testing.T) {
	a := newReplApp(t)
	os.Remove(filepath.Join(a.dir, ".kamal/scripts/build.star"))
	out, _, code := a.pipe(t, "", "build", "eject")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	path := filepath.Join(a.dir, ".kamal/scripts/build.star")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	stock, err := os.ReadFile("../../scripts/build.star")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(stock) {
		t.Error("the ejected script is not the stock one")
	}
	// The ejected copy loads on top of the stock one: same subcommands.
	out, _, code = a.pipe(t, "", "build", "help")
	if code != 0 || !strings.Contains(out, "kamal build push") {
		t.Errorf("after eject, help: exit %d\n%s", code, out)
	}

	os.WriteFile(path, []byte("# mine\n"), 0o644)
	out, _, code = a.pipe(t, "", "build", "eject")
	if code != 1 || !strings.Contains(out, "ERROR (ArgumentError): .kamal/scripts/build.star already exists") {
		t.Errorf("second eject: exit %d, output:\n%s", code, out)
	}
	if b, _ := os.ReadFile(path); string(b) != "# mine\n" {
		t.Error("eject overwrote the user's script")
	}
}

func TestTraceAndDryRunWithAUserScript(t *testing.T) {
	a := newReplApp(t)
	os.WriteFile(filepath.Join(a.dir, ".kamal/scripts/build.star"), []byte(`def touch():
    """Touch a marker"""
    c = cmd("touch", "marker")
    local.run(c)
`), 0o644)
	out, stderr, code := a.pipe(t, "", "build", "touch", "--trace", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	wantLines(t, "output", out, "Running /usr/bin/env touch marker on localhost")
	user := filepath.Join(a.dir, ".kamal/scripts/build.star")
	if !regexp.MustCompile(`(?m)^\[trace\] ` + regexp.QuoteMeta(user) + `:3:12 cmd \d+\.\d{3}s\n\[trace\] ` + regexp.QuoteMeta(user) + `:4:14 local\.run \d+\.\d{3}s$`).MatchString(stderr) {
		t.Errorf("--trace printed:\n%s", stderr)
	}
	if _, err := os.Stat(filepath.Join(a.dir, "marker")); err == nil {
		t.Error("--dry-run ran the user's command")
	}
}

func TestAScriptBugEndsWithItsBacktraceAndASuggestion(t *testing.T) {
	a := newReplApp(t)
	os.WriteFile(filepath.Join(a.dir, ".kamal/scripts/build.star"), []byte(`def go():
    """Go"""
    _step()

def _step():
    local.run(cmd("true"), levl = "info")
`), 0o644)
	out, stderr, code := a.pipe(t, "", "build", "go")
	user := filepath.Join(a.dir, ".kamal/scripts/build.star")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantLines(t, "stderr", stderr, "Traceback (most recent call last):\n", user+":3:10: in go\n", user+":6:14: in _step\n")
	wantLines(t, "stdout", out, "ERROR (RuntimeError): ", `local.run: unexpected keyword argument "levl" (did you mean level?)`)
	if n := strings.Count(out+stderr, `unexpected keyword argument "levl"`); n != 1 {
		t.Errorf("the error is printed %d times, want once (on the ERROR line):\nstdout:\n%s\nstderr:\n%s", n, out, stderr)
	}

	os.WriteFile(filepath.Join(a.dir, ".kamal/scripts/build.star"), []byte("def go():\n    \"\"\"Go\"\"\"\n    say(confg.service)\n"), 0o644)
	out, _, code = a.pipe(t, "", "build", "go")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantLines(t, "stdout", out, "ERROR (RuntimeError): "+user+":3:9: undefined: confg (did you mean config?)")
}

// kamal build api needs no config and prints docs/builtins.md's text: the
// reference made from the builtins' registration, one entry per builtin.
func TestAPIPrintsTheBuiltinReferenceWithoutAConfig(t *testing.T) {
	a := &replApp{dir: t.TempDir(), home: t.TempDir()}
	out, _, code := a.pipe(t, "", "build", "api")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	docs, err := os.ReadFile("../../docs/builtins.md")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(docs) {
		t.Errorf("kamal build api differs from docs/builtins.md (regenerate it with go generate ./builtins)")
	}
	wantLines(t, "kamal build api", out, "\n## `lock`\n", "\n### `lock.acquire(message=\"Automatic deploy lock\")`\n\nTakes the deploy lock")
}

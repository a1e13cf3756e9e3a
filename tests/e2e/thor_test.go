package e2e

import (
	"strings"
	"testing"
)

// Issue 20's command lines, on the example app: Kamal's Thor answers
// each (testdata/thor.jsonl in cmd/kamal has Thor's own answers to these
// and many more forms); kamal-go must print the same lines on standard
// error, nothing else, exit 1, and leave nothing behind. None may panic.
func TestThorAnswersBadCommandLines(t *testing.T) {
	usage := func(args string) string {
		return "ERROR: \"kamal build push\" was called with arguments " + args + "\nUsage: \"kamal build push\"\n"
	}
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"a short option's value is attached only with =", []string{"build", "push", "-dstaging"},
			usage(`["-s", "-t", "-a", "-g", "-i", "-n", "-g"]`)},
		{"a host glued to -h is an argument", []string{"build", "push", "-h127.0.1.97"}, usage(`["-h127.0.1.97"]`)},
		{"a message glued to -m is no value", []string{"lock", "acquire", "-mhotfix"}, "No value provided for option '--message'\n"},
		{"a cluster before any command is a command name", []string{"-xyz"}, "Could not find command \"_xyz\".\n"},
		{"an extra argument", []string{"build", "push", "staging"}, usage(`["staging"]`)},
		{"an unknown option", []string{"build", "push", "--dryrun"}, usage(`["--dryrun"]`)},
		{"an unknown short option", []string{"build", "push", "-Z"}, usage(`["-Z"]`)},
		{"version takes no argument", []string{"version", "extra"},
			"ERROR: \"kamal version\" was called with arguments [\"extra\"]\nUsage: \"kamal version\"\n"},
		{"an option before any command is a command name", []string{"--foo="}, "Could not find command \"__foo=\".\n"},
		{"an unknown command", []string{"frobnicate"}, "Could not find command \"frobnicate\".\n"},
		{"an unknown subcommand", []string{"build", "frobnicate"}, "Could not find command \"frobnicate\".\n"},
		{"a numeric option given a word", []string{"build", "push", "--lock-wait-timeout", "soon"},
			"Expected numeric value for '--lock-wait-timeout'; got \"soon\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp(t, "app")
			version := app.Version()
			stdout, stderr, exit := app.Run(tt.args...)
			if exit != 1 {
				t.Errorf("exit status %d, want 1", exit)
			}
			if stderr != tt.stderr {
				t.Errorf("stderr\n%q\nwant\n%q", stderr, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout %q, want nothing", stdout)
			}
			assertNoLock(t)
			assertNotPushed(t, version)
		})
	}
}

// Bundled switches run as their letters: -qv is -q -v (it panicked).
func TestThorBundledSwitches(t *testing.T) {
	app := newApp(t, "app")
	stdout, stderr, exit := app.Run("build", "details", "-qv")
	if exit != 0 || strings.Contains(stdout+stderr, "panic") {
		t.Fatalf("exit %d\n%s\n%s", exit, stdout, stderr)
	}
}

// A string option never takes a following -… word: --version gets its
// own name and --dry-run stays a switch, so the run is a dry run that
// touches nothing (it ran for real, hooks and lock included).
func TestThorValueOptionNeverSwallowsTheNextOption(t *testing.T) {
	app := newApp(t, "app")
	version := app.Version()
	stdout, stderr, exit := app.Run("build", "push", "--version", "--dry-run")
	if exit != 0 {
		t.Fatalf("exit %d\n%s\n%s", exit, stdout, stderr)
	}
	assertContains(t, "stdout", stdout, ":version")
	assertNotContains(t, "stdout", stdout, "--dry-run")
	assertNoLock(t)
	assertNotPushed(t, version)
	assertNotPushed(t, "version")
}

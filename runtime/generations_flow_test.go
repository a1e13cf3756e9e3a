package runtime

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Flows of the Kamal 1.9 generation (issue 9): an app whose Gemfile.lock
// pins a Kamal 1.6–1.9 release, against fake hosts.

// pin writes a Gemfile.lock locking kamal at version into dir and commits
// it, as an app that runs Kamal through Bundler has.
func pin(t *testing.T, dir, version string) {
	t.Helper()
	lock := "GEM\n  remote: https://rubygems.org/\n  specs:\n    kamal (" + version + ")\n      sshkit (>= 1.23.0, < 2.0)\n    sshkit (1.23.0)\n\n" +
		"PLATFORMS\n  ruby\n\nDEPENDENCIES\n  kamal (= " + version + ")\n\nBUNDLED WITH\n   2.5.22\n"
	if err := os.WriteFile(filepath.Join(dir, "Gemfile.lock"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "Gemfile.lock")
	gitIn(t, dir, "commit", "-qm", "pin kamal "+version)
}

func TestDetailsVerboseSaysWhichGenerationAndWhy(t *testing.T) {
	tests := []struct {
		name, app, pin, want string
	}{
		{"pinned_1.8.3", "kamal1", "1.8.3", " DEBUG Kamal 1.9 generation (follows Kamal 1.9.2): Gemfile.lock pins kamal (1.8.3)\n"},
		{"pinned_1.5.2", "kamal1", "1.5.2", " DEBUG Kamal 1.5 generation (follows Kamal 1.5.2): Gemfile.lock pins kamal (1.5.2)\n"},
		{"unpinned_kamal1", "kamal1", "", " DEBUG Kamal 1.5 generation (follows Kamal 1.5.2): no kamal in Gemfile.lock, no minimum_version, no Kamal 2 builder key\n"},
		{"unpinned_kamal2", "kamal2", "", " DEBUG Kamal 2.12 generation (follows Kamal 2.12.0): no kamal in Gemfile.lock, no minimum_version, builder has the Kamal 2 key arch\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := app(t, tt.app)
			if tt.pin != "" {
				pin(t, dir, tt.pin)
			}
			got, _, err := run(t, dir, "details", true, rule{match: "docker context ls", stdout: "NAME\n"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("details -v does not start with the generation line %q:\n%s", tt.want, got)
			}
			quiet, _, err := run(t, dir, "details", false, rule{match: "docker context ls", stdout: "NAME\n"})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(quiet, "generation") {
				t.Errorf("details without -v names the generation:\n%s", quiet)
			}
		})
	}
}

package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestKamalGoVersionFromBuildInfo(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go_install_at_a_version", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "v1.2.0"},
		{"checkout_with_pseudo_version", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207005934-9fc05791676e+dirty"}, Settings: vcs("9fc05791676e", "true")}, true, "v0.0.0-20261207005934-9fc05791676e+dirty"},
		{"checkout_revision_only", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("9fc0579", "false")}, true, "9fc0579"},
		{"checkout_revision_modified", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("9fc0579", "true")}, true, "9fc0579-modified"},
		{"no_vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "(devel)"},
		{"no_build_info", nil, false, "(devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kamalGoVersion(tt.info, tt.ok); got != tt.want {
				t.Fatalf("kamalGoVersion = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestVersionPrintsTheReleaseAloneAndKamalGoWithVerbose(t *testing.T) {
	for _, tt := range []struct {
		args  []string
		lines int
	}{{[]string{"version"}, 1}, {[]string{"version", "-v"}, 2}, {[]string{"version", "--verbose"}, 2}} {
		var out, errOut bytes.Buffer
		if code := run(streams{Out: &out, Err: &errOut}, tt.args); code != 0 {
			t.Fatalf("%v: exit %d, stderr %q", tt.args, code, errOut.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != tt.lines || lines[0] != compatVersion {
			t.Fatalf("%v: got %q, want %s then %d line(s)", tt.args, out.String(), compatVersion, tt.lines-1)
		}
		if tt.lines == 2 && !strings.HasPrefix(lines[1], "kamal-go ") {
			t.Fatalf("%v: second line %q, want kamal-go VERSION", tt.args, lines[1])
		}
	}
}

package config

import (
	"strings"
	"testing"
)

// lockWith is a Gemfile.lock as Bundler writes it, locking kamal at
// version among other gems (one of which depends on kamal, to show that
// a dependency line is not a pin).
func lockWith(version string) string {
	return "GEM\n  remote: https://rubygems.org/\n  specs:\n" +
		"    activesupport (7.1.3)\n      concurrent-ruby (~> 1.0)\n" +
		"    kamal (" + version + ")\n      activesupport (>= 7.0)\n      sshkit (>= 1.23.0, < 2.0)\n" +
		"    kamal-plugin (0.1.0)\n      kamal (>= 1.0)\n" +
		"    sshkit (1.23.0)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  kamal (~> 1.9)\n\nBUNDLED WITH\n   2.5.22\n"
}

func withFiles(fx fixture, files map[string]string) fixture {
	all := map[string]string{}
	for k, v := range fx.files {
		all[k] = v
	}
	for k, v := range files {
		all[k] = v
	}
	fx.files = all
	return fx
}

func TestReleaseIsChosenFromTheLockMinimumVersionOrBuilderKeys(t *testing.T) {
	tests := []struct {
		name    string
		fx      fixture
		release Release
		reason  string
	}{
		{"lock_pins_1.9.2", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.9.2")}),
			Kamal19, "Gemfile.lock pins kamal (1.9.2)"},
		{"lock_pins_1.6.0_nearest_is_1.9", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.6.0")}),
			Kamal19, "Gemfile.lock pins kamal (1.6.0)"},
		{"lock_pins_1.8.3", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.8.3")}),
			Kamal19, "Gemfile.lock pins kamal (1.8.3)"},
		{"lock_pins_1.5.2", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.5.2")}),
			Kamal15, "Gemfile.lock pins kamal (1.5.2)"},
		{"lock_pins_1.0.0_nearest_is_1.5", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.0.0")}),
			Kamal15, "Gemfile.lock pins kamal (1.0.0)"},
		{"lock_pins_2.0.0_prerelease", withFiles(deploy(v2Base), map[string]string{"Gemfile.lock": lockWith("2.0.0.beta2")}),
			Kamal212, "Gemfile.lock pins kamal (2.0.0.beta2)"},
		{"lock_pins_2.7.0", withFiles(deploy(v2Base), map[string]string{"Gemfile.lock": lockWith("2.7.0")}),
			Kamal212, "Gemfile.lock pins kamal (2.7.0)"},
		{"lock_pin_from_a_git_source", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": "GIT\n  remote: https://github.com/basecamp/kamal.git\n  revision: 0123abc\n  specs:\n    kamal (1.7.3)\n      sshkit (>= 1.22)\n\nGEM\n  specs:\n    sshkit (1.23.0)\n"}),
			Kamal19, "Gemfile.lock pins kamal (1.7.3)"},
		{"lock_with_crlf_line_ends", withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": strings.ReplaceAll(lockWith("1.9.1"), "\n", "\r\n")}),
			Kamal19, "Gemfile.lock pins kamal (1.9.1)"},
		{"lock_beats_minimum_version", withFiles(deploy(v1Base+"minimum_version: 1.2.0\n"), map[string]string{"Gemfile.lock": lockWith("1.9.2")}),
			Kamal19, "Gemfile.lock pins kamal (1.9.2)"},
		{"lock_beats_builder_keys", withFiles(deploy(v1Base+"builder:\n  multiarch: false\n"), map[string]string{"Gemfile.lock": lockWith("2.12.0")}),
			Kamal212, "Gemfile.lock pins kamal (2.12.0)"},
		{"gems_locked_when_there_is_no_gemfile_lock", withFiles(deploy(v1Base), map[string]string{"gems.locked": lockWith("1.9.2")}),
			Kamal19, "gems.locked pins kamal (1.9.2)"},
		{"bundle_gemfile_names_the_lock", func() fixture {
			fx := withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.5.2"), "gemfiles/deploy.gemfile.lock": lockWith("1.8.0")})
			fx.env = map[string]string{"BUNDLE_GEMFILE": "gemfiles/deploy.gemfile"}
			return fx
		}(), Kamal19, "gemfiles/deploy.gemfile.lock pins kamal (1.8.0)"},
		{"bundle_gemfile_gems_rb", func() fixture {
			fx := withFiles(deploy(v1Base), map[string]string{"ops/gems.locked": lockWith("2.3.0")})
			fx.env = map[string]string{"BUNDLE_GEMFILE": "ops/gems.rb"}
			return fx
		}(), Kamal212, "ops/gems.locked pins kamal (2.3.0)"},
		{"lock_without_kamal_falls_through_to_minimum_version", withFiles(deploy(v1Base+"minimum_version: 1.7.0\n"), map[string]string{"Gemfile.lock": "GEM\n  specs:\n    rails (7.1.3)\n\nDEPENDENCIES\n  kamal\n  rails\n"}),
			Kamal19, "no kamal in Gemfile.lock, minimum_version is 1.7.0"},
		{"minimum_version_2_on_kamal1_keys", deploy(v1Base + "minimum_version: \"2.1\"\n"),
			Kamal212, "no kamal in Gemfile.lock, minimum_version is 2.1"},
		{"minimum_version_1.4", deploy(v1Base + "minimum_version: 1.4.0\n"),
			Kamal15, "no kamal in Gemfile.lock, minimum_version is 1.4.0"},
		{"minimum_version_beats_builder_keys", deploy(v2Base + "minimum_version: 2.0.0\n"),
			Kamal212, "no kamal in Gemfile.lock, minimum_version is 2.0.0"},
		{"kamal2_builder_key", deploy(v2Base),
			Kamal212, "no kamal in Gemfile.lock, no minimum_version, builder has the Kamal 2 key arch"},
		{"kamal2_boolean_local", deploy(v1Base + "builder:\n  arch: amd64\n  local: false\n  remote: ssh://root@b\n"),
			Kamal212, "no kamal in Gemfile.lock, no minimum_version, builder has the Kamal 2 key arch"},
		{"no_pin_no_keys", deploy(v1Base + "builder:\n  multiarch: false\n"),
			Kamal15, "no kamal in Gemfile.lock, no minimum_version, no Kamal 2 builder key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.fx.dir(t)
			l, err := newLoader(tt.fx.options(dir))
			if err != nil {
				t.Fatal(err)
			}
			raw, _, err := l.read(nil, true)
			if err != nil {
				t.Fatal(err)
			}
			r, reason, err := l.chooseRelease(raw)
			if err != nil {
				t.Fatal(err)
			}
			if r != tt.release || reason != tt.reason {
				t.Errorf("release %v (%q), want %v (%q)", r, reason, tt.release, tt.reason)
			}
		})
	}
}

func TestLoadedConfigCarriesTheChosenRelease(t *testing.T) {
	for _, tt := range []struct {
		fx      fixture
		release Release
	}{
		{withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": lockWith("1.9.2")}), Kamal19},
		{deploy(v1Base), Kamal15},
		{deploy(v2Base), Kamal212},
	} {
		c, err := tt.fx.load(t)
		if err != nil {
			t.Fatal(err)
		}
		if c.Release != tt.release || c.Generation != tt.release.Generation() || c.ReleaseReason == "" {
			t.Errorf("loaded release %v, generation %d, reason %q; want %v", c.Release, c.Generation, c.ReleaseReason, tt.release)
		}
	}
}

func TestTheChosenReleaseDecidesValidationAndMinimumVersion(t *testing.T) {
	tests := []struct {
		name string
		fx   fixture
		want string
	}{
		// Kamal 1.9.2 does not know Kamal 2's builder keys, even when the
		// config uses them.
		{"kamal2_keys_in_an_app_pinned_to_1.9", withFiles(deploy(v2Base), map[string]string{"Gemfile.lock": lockWith("1.9.2")}),
			"(Kamal::ConfigurationError) builder: unknown key: arch"},
		{"minimum_version_above_the_pinned_release", withFiles(deploy(v1Base+"minimum_version: 1.9.0\n"), map[string]string{"Gemfile.lock": lockWith("1.5.2")}),
			"(Kamal::ConfigurationError) Current version is 1.5.2, minimum required is 1.9.0"},
		{"minimum_version_checked_against_the_generation_release", withFiles(deploy(v1Base+"minimum_version: 1.9.3\n"), map[string]string{"Gemfile.lock": lockWith("1.7.0")}),
			"(Kamal::ConfigurationError) Current version is 1.9.2, minimum required is 1.9.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.fx.load(t)
			if got := errString(err); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMalformedLockFilesAreErrors(t *testing.T) {
	tests := []struct {
		name, lock, want string
	}{
		{"merge_conflict", "GEM\n  specs:\n<<<<<<< HEAD\n    kamal (1.9.2)\n=======\n    kamal (2.0.0)\n>>>>>>> main\n",
			"(RuntimeError) Gemfile.lock:3: merge conflict marker: cannot tell which kamal release the app pins"},
		{"kamal_locked_twice", "GIT\n  specs:\n    kamal (1.9.2)\n\nGEM\n  specs:\n    kamal (2.0.0)\n",
			"(RuntimeError) Gemfile.lock:7: kamal is locked at 1.9.2 and at 2.0.0"},
		{"malformed_version", lockWith("main"),
			"(RuntimeError) Gemfile.lock:6: kamal (main): Malformed version number string main"},
		{"empty_version", "GEM\n  specs:\n    kamal ()\n",
			"(RuntimeError) Gemfile.lock:3: kamal (): Malformed version number string "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := withFiles(deploy(v1Base), map[string]string{"Gemfile.lock": tt.lock}).load(t)
			if got := errString(err); got != tt.want {
				t.Errorf("got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestReleaseFor(t *testing.T) {
	for v, want := range map[string]Release{
		"1.0.0": Kamal15, "1.5.2": Kamal15, "1.5.9": Kamal15, "1.6.0.rc1": Kamal19, "1.6.0": Kamal19,
		"1.9.2": Kamal19, "1.10.0": Kamal19, "2": Kamal212, "2.0.0.alpha": Kamal212, "2.12.0": Kamal212, "3.0.1": Kamal212,
	} {
		got, err := ReleaseFor(v)
		if err != nil || got != want {
			t.Errorf("ReleaseFor(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := ReleaseFor("one"); err == nil {
		t.Error("ReleaseFor(\"one\") accepted a malformed version")
	}
}

// errString is "(Class) message" of a classed error, or "<nil>".
func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	if e, ok := err.(*Error); ok {
		return "(" + e.Class + ") " + e.Message
	}
	return "(unclassed) " + err.Error()
}

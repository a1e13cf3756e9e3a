package config

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func TestERBInLoad(t *testing.T) {
	tests := []struct {
		name  string
		fx    fixture
		check func(t *testing.T, c *Config)
	}{
		{
			name: "env_values_fill_config",
			fx:   deploy("service: <%= ENV['SVC'] %>\nimage: dhh/app\nservers: [<%= ENV.fetch('HOST') %>]\nregistry: {username: u, password: p}\n").withEnv("SVC", "web-app", "HOST", "9.9.9.9"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Service, "web-app")
				eq(t, c.Roles[0].Hosts, []string{"9.9.9.9"})
			},
		},
		{
			name: "kamal_destination_visible_with_destination",
			fx: deploy(v1Base+"image: <%= ENV['KAMAL_DESTINATION'] %>/app\n").withDest("qa").
				with("config/deploy.qa.yml", "service: <%= ENV.fetch('KAMAL_DESTINATION') %>-app\n").withEnv("KAMAL_DESTINATION", "ignored"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Image, "qa/app")
				eq(t, c.Service, "qa-app")
			},
		},
		{
			name:  "kamal_destination_unset_without_destination",
			fx:    deploy(v1Base+"image: <%= ENV.fetch('KAMAL_DESTINATION', 'none') %>/app\n").withEnv("KAMAL_DESTINATION", "stale"),
			check: func(t *testing.T, c *Config) { eq(t, c.Image, "none/app") },
		},
		{
			name:  "kamal_destination_visible_to_commands",
			fx:    deploy(v1Base+"image: <%= `printf \"$KAMAL_DESTINATION\"` %>/app\n").withDest("qa").with("config/deploy.qa.yml", ""),
			check: func(t *testing.T, c *Config) { eq(t, c.Image, "qa/app") },
		},
		{
			name: "command_output_is_parsed_as_yaml",
			fx:   deploy(v1Base + "builder:\n  args:\n<%= `printf '    A: 1\\n    B: two\\n'` %>"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Builder.Args, []KV{{Key: "A", Value: "1"}, {Key: "B", Value: "two"}})
			},
		},
		{
			name:  "trim_mode_builds_lists",
			fx:    deploy("service: app\nimage: dhh/app\nregistry: {username: u, password: p}\nservers:\n<%# hosts -%>\n  - 1.1.1.1\n  - <%= \"1.1.1.2\" -%>\n\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.Roles[0].Hosts, []string{"1.1.1.1", "1.1.1.2"}) },
		},
		{
			name: "kamal1_erb_sees_dotenv",
			fx: deploy(strings.Replace(v1Base, "image: dhh/app", "image: <%= ENV.fetch('IMAGE') %>", 1)+"service: <%= ENV['SVC'] || 'x' %>\n").
				with(".env", "IMAGE=dotenv/app\nSVC=from-dotenv\n"),
			check: func(t *testing.T, c *Config) {
				eq(t, c.Image, "dotenv/app")
				eq(t, c.Service, "from-dotenv")
			},
		},
		{
			name:  "kamal1_erb_real_env_beats_dotenv",
			fx:    deploy(strings.Replace(v1Base, "image: dhh/app", "image: <%= ENV['IMAGE'] %>", 1)).with(".env", "IMAGE=dotenv/app\n").withEnv("IMAGE", "env/app"),
			check: func(t *testing.T, c *Config) { eq(t, c.Image, "env/app") },
		},
		{
			name:  "kamal2_erb_ignores_dotenv",
			fx:    deploy(v2Base+"image: <%= ENV['IMAGE'] || 'default/app' %>\n").with(".env", "IMAGE=dotenv/app\n"),
			check: func(t *testing.T, c *Config) { eq(t, c.Image, "default/app") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, mustLoad(t, tt.fx)) })
	}
}

// TestERBRubyFallback: code outside the Go subset is rendered by Ruby's
// own ERB (whole file, app directory, the environment commands get,
// trim mode "-"); without a ruby on PATH it is one error line naming
// the file, the line and the construct.
func TestERBRubyFallback(t *testing.T) {
	const outside = "# <%= RUBY_ENGINE %>\nservice: <%= {app: ENV['SVC']}.fetch(:app).tr('_', '-') %>\n" +
		"image: <%= File.read('img.txt').strip %>/<%= ENV['KAMAL_DESTINATION'] -%>\n\n" +
		"servers: [<%= ENV.fetch('HOST') %>]\nregistry: {username: u, password: p}\n" +
		"<% puts 'a puts in the ERB goes to stdout, as in Kamal' %>"
	fx := deploy(v1Base).withDest("qa").with("config/deploy.qa.yml", outside).with("img.txt", "reg/app\n")
	t.Run("with_ruby", func(t *testing.T) {
		needRuby(t)
		t.Setenv("SVC", "web_app")
		t.Setenv("HOST", "9.9.9.9")
		c := mustLoad(t, fx)
		eq(t, c.Service, "web-app")
		eq(t, c.Image, "reg/app/qa")
		eq(t, c.Roles[0].Hosts, []string{"9.9.9.9"})
	})
	t.Run("with_ruby_ruby_errors_keep_their_class", func(t *testing.T) {
		needRuby(t)
		t.Setenv("SVC", "web_app")
		_, err := Load(fx.options(fx.dir(t)))
		wantError(t, err, kamalerr.ClassKey, `key not found: "HOST"`)
	})
	t.Run("with_ruby_commands_run_once", func(t *testing.T) {
		needRuby(t)
		fx := deploy(v1Base+"builder:\n  args:\n    A: <%= `echo run >> count; printf x` %>\n    B: <%= {b: 'y'}[:b] %>\n").with("count", "")
		dir := fx.dir(t)
		c, err := Load(fx.options(dir))
		if err != nil {
			t.Fatal(err)
		}
		eq(t, c.Builder.Args, []KV{{Key: "A", Value: "x"}, {Key: "B", Value: "y"}})
		data, err := os.ReadFile(dir + "/count")
		if err != nil {
			t.Fatal(err)
		}
		eq(t, string(data), "run\n")
	})
	t.Run("with_ruby_kamal1_sees_dotenv", func(t *testing.T) {
		needRuby(t)
		fx := deploy(strings.Replace(v1Base, "image: dhh/app", "image: <%= ENV.fetch('IMAGE') %>", 1)+"builder:\n  args:\n    B: <%= {b: ENV['B']}[:b] %>\n").
			with(".env", "IMAGE=dotenv/app\nB=from-dotenv\n")
		c := mustLoad(t, fx)
		eq(t, c.Image, "dotenv/app")
		eq(t, c.Builder.Args, []KV{{Key: "B", Value: "from-dotenv"}})
	})
	t.Run("without_ruby", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		t.Setenv("SVC", "web_app")
		_, err := Load(fx.options(fx.dir(t)))
		wantError(t, err, kamalerr.ClassConfiguration, "config/deploy.qa.yml:2: unsupported ERB: a hash literal in <%= {app: ENV['SVC']}.fetch(:app).tr('_', '-') %> (install Ruby, a ruby on PATH, and the file is rendered by Ruby's ERB)")
	})
	t.Run("without_ruby_control_flow_across_tags", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		fx := deploy(v1Base).withDest("s").with("config/deploy.s.yml", "\n<% while false %>\nx: 1\n<% end %>\n")
		_, err := Load(fx.options(fx.dir(t)))
		wantError(t, err, kamalerr.ClassConfiguration, "config/deploy.s.yml:2: unsupported ERB: while in <% while false %> (install Ruby, a ruby on PATH, and the file is rendered by Ruby's ERB)")
	})
}

// needRuby returns the ruby on PATH, or skips (fails in CI, which
// installs it).
func needRuby(t *testing.T) string {
	t.Helper()
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ruby is not installed (tests/run installs it)")
		}
		t.Skip("no ruby on PATH")
	}
	return ruby
}

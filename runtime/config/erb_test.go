package config

import (
	"io"
	"strings"
	"testing"
)

func TestERB(t *testing.T) {
	env := map[string]string{"HOST": "1.1.1.1", "EMPTY": "", "NAME": "KEY"}
	tests := []struct {
		name, in, want string
	}{
		{"text_without_tags", "a: 1\n", "a: 1\n"},
		{"env_index_double_quotes", `h: <%= ENV["HOST"] %>`, "h: 1.1.1.1"},
		{"env_index_single_quotes", `h: <%= ENV['HOST'] %>`, "h: 1.1.1.1"},
		{"env_index_missing_is_empty", `h: <%= ENV["NOPE"] %>.`, "h: ."},
		{"env_index_set_but_empty", `h: <%= ENV["EMPTY"] %>.`, "h: ."},
		{"env_fetch", `h: <%= ENV.fetch("HOST") %>`, "h: 1.1.1.1"},
		{"env_fetch_default_unused", `h: <%= ENV.fetch("HOST", "x") %>`, "h: 1.1.1.1"},
		{"env_fetch_default", `h: <%= ENV.fetch("NOPE", "2.2.2.2") %>`, "h: 2.2.2.2"},
		{"env_fetch_default_single_quotes", `h: <%= ENV.fetch('NOPE', 'd') %>`, "h: d"},
		{"env_key_from_expression", `h: <%= ENV[ENV["NAME"]] || "k" %>`, "h: k"},
		{"double_quoted_literal_escapes", `s: "<%= "a\"b\\c\td" %>"`, "s: \"a\"b\\c\td\""},
		{"single_quoted_literal_is_raw", `s: <%= 'a\nb\'c' %>`, `s: a\nb'c`},
		{"or_falls_back_on_nil", `h: <%= ENV["NOPE"] || "fallback" %>`, "h: fallback"},
		{"or_keeps_empty_string", `h: <%= ENV["EMPTY"] || "fallback" %>.`, "h: ."},
		{"or_chain", `h: <%= ENV["A"] || ENV["B"] || "c" %>`, "h: c"},
		{"nil_literal", `h: <%= nil %>.`, "h: ."},
		{"parenthesised", `h: <%= (ENV["NOPE"] || "x").strip %>`, "h: x"},
		{"strip_method", `h: <%= "  x \n".strip %>`, "h: x"},
		{"chomp_method", `h: <%= "x\n\n".chomp %>|`, "h: x\n|"},
		{"to_s_on_nil", `h: <%= ENV["NOPE"].to_s %>.`, "h: ."},
		{"backticks_keep_trailing_newline", "v: <%= `echo hi` %>x", "v: hi\nx"},
		{"backticks_strip", "v: <%= `echo hi`.strip %>x", "v: hix"},
		{"percent_x_parens", "v: <%= %x(echo a) %>", "v: a\n"},
		{"percent_x_nested_parens", "v: <%= %x(echo $(echo nested)) %>", "v: nested\n"},
		{"percent_x_braces", "v: <%= %x{printf b} %>", "v: b"},
		{"percent_x_brackets", "v: <%= %x[printf c] %>", "v: c"},
		{"percent_x_pipe", "v: <%= %x|printf d| %>", "v: d"},
		{"failing_command_output_is_used", "v: <%= `printf out; exit 3` %>", "v: out"},
		{"command_runs_in_dir", "v: <%= `cat marker` %>", "v: here"},
		{"comment_tag", "a: 1<%# anything at all %>\n", "a: 1\n"},
		{"empty_code_tag", "a: 1<% %>\n", "a: 1\n"},
		{"empty_output_tag", "a: <%= %>.", "a: ."},
		{"escaped_open_tag", "a: <%% b %>", "a: <% b %>"},
		{"dash_close_trims_newline", "a: <%= \"1\" -%>\nb: 2\n", "a: 1b: 2\n"},
		{"dash_close_trims_crlf", "a: <%= \"1\" -%>\r\nb: 2\n", "a: 1b: 2\n"},
		{"dash_close_without_newline", "a: <%= \"1\" -%> x", "a: 1 x"},
		{"comment_with_dash_close_removes_line", "<%# note -%>\na: 1\n", "a: 1\n"},
		{"dash_open_trims_indentation", "a:\n  <%- %>\n  b: 1\n", "a:\n\n  b: 1\n"},
		{"dash_open_mid_line_keeps_text", "a: x <%- %>y", "a: x y"},
		{"multiline_tag", "a: <%= ENV.fetch(\n  \"HOST\"\n) %>", "a: 1.1.1.1"},
		{"percent_close_escape_in_tag", `a: <%= "x%%>y" %>`, "a: x%>y"},
		{"line_continuation_in_backticks", "v: <%= `printf a\\\nb` %>", "v: ab"},
	}
	dir := t.TempDir()
	writeFile(t, dir+"/marker", "here")
	sh := &shell{dir: dir, stderr: io.Discard}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cx := &erbContext{name: "config/deploy.yml", getenv: mapEnv(env), run: func(c string) (string, error) {
				out, _, err := sh.output(c)
				return out, err
			}}
			got, err := renderERB(tt.in, cx)
			if err != nil {
				t.Fatalf("renderERB: %v", err)
			}
			eq(t, got, tt.want)
		})
	}
}

func TestERBErrors(t *testing.T) {
	const sup = ` (supported: ENV["X"], ENV.fetch, string literals, backticks and %x())`
	tests := []struct {
		name, in, class, msg string
	}{
		{"fetch_missing_is_key_error", `<%= ENV.fetch("NOPE") %>`, ClassKey, `key not found: "NOPE"`},
		{"ruby_method_call", "a: 1\nb: <%= Kamal::Utils.docker_arch %>", ClassConfiguration,
			"config/deploy.yml:2: unsupported ERB: Kamal::Utils.docker_arch" + sup},
		{"code_tag", "\n\n<% if ENV['X'] %>", ClassConfiguration, "config/deploy.yml:3: unsupported ERB: if ENV['X']" + sup},
		{"dash_code_tag", "<%- x = 1 -%>", ClassConfiguration, "config/deploy.yml:1: unsupported ERB: x = 1" + sup},
		{"interpolation", `<%= "a#{b}" %>`, ClassConfiguration, `config/deploy.yml:1: unsupported ERB: "a#{b}"` + sup},
		{"interpolation_in_backticks", "<%= `echo #{x}` %>", ClassConfiguration, "config/deploy.yml:1: unsupported ERB: `echo #{x}`" + sup},
		{"unknown_method", `<%= ENV["A"].upcase %>`, ClassConfiguration, `config/deploy.yml:1: unsupported ERB: ENV["A"].upcase` + sup},
		{"trailing_garbage", `<%= "a" "b" %>`, ClassConfiguration, `config/deploy.yml:1: unsupported ERB: "a" "b"` + sup},
		{"multiline_code_is_one_line", "<%= [\n1,\n2\n] %>", ClassConfiguration, "config/deploy.yml:1: unsupported ERB: [ 1, 2 ]" + sup},
		{"unterminated_string", `<%= "abc %>`, ClassConfiguration, `config/deploy.yml:1: unsupported ERB: "abc` + sup},
		{"unterminated_tag", "a: 1\n<%= ENV['X']", ClassConfiguration, "config/deploy.yml:2: unterminated ERB tag"},
		{"method_on_nil", `<%= ENV["NOPE"].strip %>`, ClassNoMethod, "config/deploy.yml:1: undefined method 'strip' for nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cx := &erbContext{name: "config/deploy.yml", getenv: mapEnv(nil), run: func(string) (string, error) { return "", nil }}
			_, err := renderERB(tt.in, cx)
			wantError(t, err, tt.class, tt.msg)
		})
	}
}

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

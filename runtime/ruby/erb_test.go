package ruby

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// erbEnv and erbFiles are what every template of erbCases sees (Go and
// Ruby alike): the environment and the app directory's files.
var (
	erbEnv   = map[string]string{"HOST": "1.1.1.1", "EMPTY": "", "NAME": "KEY", "DB_URL": "postgres://app:s3cr%40t@db.internal:5433/app_prod?pool=5", "WEB_URL": "https://example.com/up", "HOSTS": "a.example b.example", "NUM": " 42x"}
	erbFiles = map[string]string{
		"marker":        "here",
		".ruby-version": "3.3.5\n",
		".env.prod":     "A=1\nREDIS_PASSWORD=\"r3d1s\"\nB=2\n",
		".env":          "FROM_DOTENV=dot\nHOST=not-used\n",
		"config/x.txt":  "x-content",
		"package.json":  `{"name": "app", "version": "1.4.2", "engines": {"node": "20"}, "list": [1, 2]}`,
	}
)

// erbCases are templates with the result Ruby's ERB (trim mode "-")
// gives for them; TestERBMatchesRuby checks each against a real ruby.
var erbCases = []struct {
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
	{"env_fetch_nil_default", `h: <%= ENV.fetch('NOPE', nil).inspect %>`, "h: nil"},
	{"env_fetch_block", `h: <%= ENV.fetch("NOPE") { |k| "no #{k}" } %>`, "h: no NOPE"},
	{"env_fetch_block_unused", `h: <%= ENV.fetch("HOST") { "x" } %>`, "h: 1.1.1.1"},
	{"env_key", `h: <%= ENV.key?("HOST") %> <%= ENV.key?("NOPE") %>`, "h: true false"},
	{"env_key_from_expression", `h: <%= ENV[ENV["NAME"]] || "k" %>`, "h: k"},
	{"double_quoted_literal_escapes", `s: "<%= "a\"b\\c\td" %>"`, "s: \"a\"b\\c\td\""},
	{"single_quoted_literal_is_raw", `s: <%= 'a\nb\'c' %>`, `s: a\nb'c`},
	{"interpolation", `s: <%= "#{ENV['HOST']}:#{1 + 2}/#{nil}" %>`, "s: 1.1.1.1:3/"},
	{"nested_interpolation", `s: <%= "a#{"b#{ENV['NAME'].downcase}c"}d" %>`, "s: abkeycd"},
	{"kamal_init_ruby_version", `# RUBY_VERSION: <%= ENV["RBENV_VERSION"] || ENV["rvm_ruby_string"] || "#{RUBY_ENGINE}-3" %>`, "# RUBY_VERSION: ruby-3"},
	{"or_falls_back_on_nil", `h: <%= ENV["NOPE"] || "fallback" %>`, "h: fallback"},
	{"or_keeps_empty_string", `h: <%= ENV["EMPTY"] || "fallback" %>.`, "h: ."},
	{"or_chain", `h: <%= ENV["A"] || ENV["B"] || "c" %>`, "h: c"},
	{"and", `h: <%= ENV["HOST"] && "yes" %> <%= (ENV["NOPE"] && "yes").inspect %>`, "h: yes nil"},
	{"not", `h: <%= !ENV["NOPE"] %> <%= !!ENV["HOST"] %>`, "h: true true"},
	{"ternary", `h: <%= ENV["NOPE"] ? "set" : "unset" %> <%= ENV['HOST'] == "1.1.1.1" ? 'a' : 'b' %>`, "h: unset a"},
	{"equality", `h: <%= ENV["HOST"] == "1.1.1.1" %> <%= ENV["HOST"] != "1.1.1.1" %> <%= nil == false %> <%= 1 == 1 %>`, "h: true false false true"},
	{"nil_literal", `h: <%= nil %>.`, "h: ."},
	{"booleans_and_integers", `h: <%= true %> <%= false %> <%= 42 %> <%= -3 %>`, "h: true false 42 -3"},
	{"parenthesised", `h: <%= (ENV["NOPE"] || "x").strip %>`, "h: x"},
	{"strip_method", `h: <%= "  x \n".strip %>`, "h: x"},
	{"lstrip_rstrip", `h: <%= "  x  ".lstrip %>|<%= "  x  ".rstrip %>|`, "h: x  |  x|"},
	{"chomp_method", `h: <%= "x\n\n".chomp %>|`, "h: x\n|"},
	{"chomp_arg", `h: <%= "file.yml".chomp(".yml") %>`, "h: file"},
	{"to_s_on_nil", `h: <%= ENV["NOPE"].to_s %>.`, "h: ."},
	{"to_i", `h: <%= ENV["NUM"].to_i + 1 %> <%= "abc".to_i %> <%= "1_000".to_i %> <%= nil.to_i %>`, "h: 43 0 1000 0"},
	{"int_to_s", `h: <%= 3.to_s + "x" %>`, "h: 3x"},
	{"upcase_downcase_capitalize", `h: <%= "Ab".upcase %> <%= "Ab".downcase %> <%= "aB".capitalize %>`, "h: AB ab Ab"},
	{"split_whitespace", `h: <%= ENV["HOSTS"].split.last %> <%= "  a  b ".split.length %>`, "h: b.example 2"},
	{"split_whitespace_is_ascii", "h: <%= \"a\u00a0b c\\vd\".split.inspect %>", "h: [\"a\u00a0b\", \"c\", \"d\"]"},
	{"split_string_and_first", `h: <%= "a,b,,c,,".split(",").inspect %> <%= "a,b".split(",").first %>`, `h: ["a", "b", "", "c"] a`},
	{"split_regexp", `h: <%= "a1b22c".split(/\d+/).join("-") %>`, "h: a-b-c"},
	{"join", `h: <%= ["a", ["b", nil], 3].join(",") %> <%= %w[x y].join %>`, "h: a,b,,3 xy"},
	{"array_output_is_inspect", `h: <%= ["a", 1, nil] %>`, `h: ["a", 1, nil]`},
	{"array_first_last_n", `h: <%= [1, 2, 3].first(2).inspect %> <%= [1, 2, 3].last(2).inspect %> <%= [].first.inspect %>`, "h: [1, 2] [2, 3] nil"},
	{"array_index", `h: <%= %w[a b c][1] %> <%= %w[a b c][-1] %> <%= %w[a b c][1..].inspect %> <%= %w[a b c][0, 2].inspect %>`, `h: b c ["b", "c"] ["a", "b"]`},
	{"array_methods", `h: <%= [3, 1, 2].sort.inspect %> <%= [1, nil, 1].compact.uniq.inspect %> <%= ["a"].include?("a") %> <%= [].empty? %> <%= [[1], [2, [3]]].flatten.size %>`, "h: [1, 2, 3] [1] true true 3"},
	{"map_with_block", `h: <%= %w[a b].map { |x| x.upcase }.join(" ") %>`, "h: A B"},
	{"each_across_tags", "hosts:\n<% ENV['HOSTS'].split.each do |h| -%>\n  - <%= h %>\n<% end -%>\nx: 1\n", "hosts:\n  - a.example\n  - b.example\nx: 1\n"},
	{"symbol_block_pass", `h: <%= " a , b ".split(",").map(&:strip).inspect %> <%= %w[a b].map(&:upcase).join %>`, `h: ["a", "b"] AB`},
	{"tr", `h: <%= "a_b-c".tr("_-", "..") %> <%= "hello".tr("a-y", "b-z") %> <%= "hello".tr("el", "ip") %> <%= "hello".tr("^l", "*") %> <%= "abc".tr("abc", "x") %>`, "h: a.b.c ifmmp hippo **ll* xxx"},
	{"integer_function", `h: <%= Integer("42") + 1 %> <%= Integer(" 0x1A ") %> <%= Integer(7) %>`, "h: 43 26 7"},
	{"select_reject", `h: <%= [1, 2, 3, 4].select { |i| i.even? }.inspect %> <%= %w[a bb].reject { |s| s.length > 1 }.inspect %>`, `h: [2, 4] ["a"]`},
	{"string_index", `h: <%= "hello"[1] %> <%= "hello"[1, 3] %> <%= "hello"[-3..] %> <%= "hello"[1..2] %> <%= "hello"[1...2] %> <%= "hello"["ell"] %> <%= "hello"[9].inspect %>`, "h: e ell llo el e ell nil"},
	{"regexp_index", `h: <%= "v1.2.3"[/\d+\.\d+/] %> <%= "v1.2.3"[/v(\d+)\.(\d+)/, 2] %> <%= "x"[/y/].inspect %>`, "h: 1.2 2 nil"},
	{"regexp_named_group", `h: <%= "port=5432"[/port=(?<p>\d+)/, "p"] %>`, "h: 5432"},
	{"file_read_regexp_index_multiline", "p: <%= File.read(\".env.prod\")[/REDIS_PASSWORD=\"(.*)\"/,\n      1] %>", "p: r3d1s"},
	{"regexp_anchors_are_per_line", `h: <%= File.read(".env.prod")[/^B=(\d)$/, 1] %>`, "h: 2"},
	{"match", `h: <%= "abc".match(/b(c)/)[1] %> <%= "abc".match?(/z/) %> <%= ("abc" =~ /c/) %> <%= ("abc" !~ /c/) %>`, "h: c false 2 false"},
	{"scan_flatten_first", "h: <%= \"github.com account bob (keyring)\\n\".scan(/github.com account ([^\\s]+)\\s/).flatten.first %>", "h: bob"},
	{"scan_without_groups", `h: <%= "a1b2".scan(/\d/).inspect %>`, `h: ["1", "2"]`},
	{"sub_gsub", `h: <%= "a-b-c".sub("-", "+") %> <%= "a-b-c".gsub("-", "+") %> <%= "v1.2".gsub(/(\d)/, '<\1>') %>`, "h: a+b-c a+b+c v<1>.<2>"},
	{"include_start_end_with", `h: <%= "abc".include?("b") %> <%= "abc".start_with?("x", "a") %> <%= "abc".end_with?("bc") %>`, "h: true true true"},
	{"empty_length_reverse", `h: <%= "".empty? %> <%= "héllo".length %> <%= "abc".reverse %>`, "h: true 5 cba"},
	{"lines_and_chars", `h: <%= "a\nb\n".lines.inspect %> <%= "ab".chars.inspect %>`, `h: ["a\n", "b\n"] ["a", "b"]`},
	{"string_concat_and_repeat", `h: <%= "a" + "b" %> <%= "ab" * 2 %>`, "h: ab abab"},
	{"inspect", `h: <%= "a\"b\n".inspect %>`, `h: "a\"b\n"`},
	{"nil_predicates", `h: <%= ENV["NOPE"].nil? %> <%= ENV["HOST"].nil? %>`, "h: true false"},
	{"file_read_strip", `v: <%= File.read('.ruby-version').strip %>`, "v: 3.3.5"},
	{"file_read_expand_path", `v: <%= File.read(File.expand_path("../.ruby-version", "config")).strip %>`, "v: 3.3.5"},
	{"file_read_join", `v: <%= File.read(File.join("config", "x.txt")) %>`, "v: x-content"},
	{"file_exist", `v: <%= File.exist?(".env") %> <%= File.exist?("nope") %> <%= File.file?("config") %> <%= File.directory?("config") %>`, "v: true false false true"},
	{"file_exist_condition", "<% if File.exist?('.ruby-version') %>a: 1<% else %>a: 2<% end %>", "a: 1"},
	{"file_join", `v: <%= File.join("a", "b/", "/c") %> <%= File.join("a", ["b", "c"]) %>`, "v: a/b/c a/b/c"},
	{"file_basename_dirname_extname", `v: <%= File.basename("a/b.yml") %> <%= File.dirname("a/b.yml") %> <%= File.extname("a/b.yml") %>`, "v: b.yml a .yml"},
	{"dir_pwd_and_expand_path", `v: <%= File.expand_path("config") == File.join(Dir.pwd, "config") %>`, "v: true"},
	{"dunder_dir", `v: <%= __dir__ %> <%= File.exist?(File.join(__dir__, ".env")) %>`, "v: . true"},
	{"backticks_keep_trailing_newline", "v: <%= `echo hi` %>x", "v: hi\nx"},
	{"backticks_strip", "v: <%= `echo hi`.strip %>x", "v: hix"},
	{"backticks_interpolation", "v: <%= `printf '#{ENV['HOST']}'` %>", "v: 1.1.1.1"},
	{"backticks_chomp", "v: <%= `printf 'a\\n'`.chomp %>|", "v: a|"},
	{"percent_x_parens", "v: <%= %x(echo a) %>", "v: a\n"},
	{"percent_x_nested_parens", "v: <%= %x(echo $(echo nested)) %>", "v: nested\n"},
	{"percent_x_braces", "v: <%= %x{printf b} %>", "v: b"},
	{"percent_x_brackets", "v: <%= %x[printf c] %>", "v: c"},
	{"percent_x_pipe", "v: <%= %x|printf d| %>", "v: d"},
	{"percent_q", "v: <%= %q(a 'b') %> <%= %Q(#{1}) %> <%= %w(a b).last %>", "v: a 'b' 1 b"},
	{"missing_program_through_the_shell", "v: <%= `nosuchprogram-kgo 2>/dev/null` %>.", "v: ."},
	{"failing_command_output_is_used", "v: <%= `printf out; exit 3` %>", "v: out"},
	{"command_runs_in_dir", "v: <%= `cat marker` %>", "v: here"},
	{"time_at_utc", `t: <%= Time.at(1700000000).utc %> <%= Time.at(1700000000).utc.strftime("%Y%m%d-%H%M%S %y %b %B %a %A %j %e %-m/%-d %I%p %F %T %D %R %s %z %Z %%") %> <%= Time.at(1700000000).utc.iso8601 %> <%= Time.at(1700000000).to_i %> <%= Time.at(1700000000).utc.year %>`, "t: 2023-11-14 22:13:20 UTC 20231114-221320 23 Nov November Tue Tuesday 318 14 11/14 10PM 2023-11-14 22:13:20 11/14/23 22:13 1700000000 +0000 UTC % 2023-11-14T22:13:20Z 1700000000 2023"},
	{"time_now", `t: <%= Time.now.to_i > 1700000000 %> <%= Time.now.utc.strftime("%Y").length %>`, "t: true 4"},
	{"symbol_block_with_predicate", `h: <%= "a,,b".split(",").reject(&:empty?).inspect %>`, `h: ["a", "b"]`},
	{"json_parse", `v: <%= JSON.parse(File.read("package.json"))["version"] %> <%= JSON.parse(File.read("package.json")).dig("engines", "node") %> <%= JSON.parse(File.read("package.json")).keys.join(",") %> <%= JSON.parse(File.read("package.json")).fetch("nope", "d") %> <%= JSON.parse(File.read("package.json"))["list"].last %> <%= JSON.parse("[1, null]").inspect %>`, "v: 1.4.2 20 name,version,engines,list d 2 [1, nil]"},
	{"hash_each_with_two_parameters", `<% JSON.parse('{"a": 1, "b": 2}').each do |k, v| %><%= k %>=<%= v %>;<% end %>`, "a=1;b=2;"},
	{"locals", `<% x = ENV["HOST"]; y = "#{x}:22" %>h: <%= y %>`, "h: 1.1.1.1:22"},
	{"or_assign", `<% x = nil; x ||= "d" %>h: <%= x %>`, "h: d"},
	{"uri_parse", `<% require "uri"; u = URI.parse(ENV["DB_URL"]) %>h: <%= u.host %> <%= u.port %> <%= u.user %> <%= u.password %> <%= u.path %> <%= u.scheme %> <%= u.query %>`, "h: db.internal 5433 app s3cr%40t /app_prod postgres pool=5"},
	{"uri_default_port", `<% u = URI.parse(ENV["WEB_URL"]) %>h: <%= u.port %> <%= u.host %> <%= u.path %> <%= u %>`, "h: 443 example.com /up https://example.com/up"},
	{"require_is_a_no_op", `<% require 'json' %>a: <%= require "uri" %>`, "a: false"},
	{"dotenv_load", `<% require "dotenv"; Dotenv.load %>a: <%= ENV["FROM_DOTENV"] %> <%= ENV["HOST"] %>`, "a: dot 1.1.1.1"},
	{"dotenv_load_missing_file_in_begin_rescue", `<% begin; require "dotenv"; Dotenv.load(".kamal/secrets.staging"); rescue LoadError; end %>a: 1`, "a: 1"},
	{"begin_rescue", `<% v = begin; File.read("nope"); rescue Errno::ENOENT; "none"; end %>a: <%= v %>`, "a: none"},
	{"rescue_modifier", `a: <%= (File.read("nope") rescue "none") %>`, "a: none"},
	{"if_elsif_else", "<% if ENV['NOPE'] %>a<% elsif ENV['HOST'] %>b<% else %>c<% end %>", "b"},
	{"unless_and_modifiers", "<% unless ENV['NOPE'] %>a<% end %><%= 'b' if ENV['HOST'] %><%= 'c' unless ENV['HOST'] %>", "ab"},
	{"presence", `h: <%= ENV["EMPTY"].to_s.empty? %> <%= ENV["HOST"].empty? %>`, "h: true false"},
	{"ljust", `h: <%= "a".ljust(3, ".") %>|<%= "a".rjust(3) %>`, "h: a..|  a"},
	{"ruby_comment_in_code", "a: <%= ENV['HOST'] # the host\n %>", "a: 1.1.1.1"},
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
	{"tags_in_yaml_comments_run", "# <%= `printf ran > ran.txt` %>\nv: <%= File.read('ran.txt') %>", "# \nv: ran"},
}

// erbDir makes the app directory erbCases expect.
func erbDir(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range erbFiles {
		writeFile(t, dir+"/"+name, content)
	}
	return dir
}

func testContext(dir string, env map[string]string) *Context {
	return &Context{Name: "config/deploy.yml", Dir: dir, Host: &testHost{getenv: mapEnv(env), run: func(c string, extra map[string]string) (string, int, error) {
		all := map[string]string{}
		for k, v := range extra {
			all[k] = v
		}
		for k, v := range env {
			all[k] = v
		}
		return shellOutput(dir, envList(all), c)
	}}}
}

// envList is env as a process environment, with PATH.
func envList(env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func TestERB(t *testing.T) {
	for _, tt := range erbCases {
		t.Run(tt.name, func(t *testing.T) {
			dir := erbDir(t)
			cx := testContext(dir, erbEnv)
			got, err := Render(tt.in, cx)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			eq(t, got, tt.want)
		})
	}
}

// TestERBMatchesRuby renders every template of erbCases with a real
// Ruby's ERB (trim mode "-"), in the same directory and environment, in
// one ruby process (a ruby start is slow on a busy machine).
func TestERBMatchesRuby(t *testing.T) {
	ruby := needRuby(t)
	dir := erbDir(t)
	var srcs []string
	for _, tt := range erbCases {
		srcs = append(srcs, tt.in)
	}
	in, err := json.Marshal(srcs)
	if err != nil {
		t.Fatal(err)
	}
	// Debian's ruby has no dotenv gem: a stand-in loads .env the way
	// dotenv does for these simple files (the Go side is dotenv 3's parser).
	const script = `
require "erb"; require "json"; require "uri"; require "time"
module Dotenv
  def self.load(*files)
    files = [".env"] if files.empty?
    files.each { |f| next unless File.exist?(f); File.readlines(f, chomp: true).each { |l| k, v = l.split("=", 2); ENV[k] ||= v } }
  end
end
$LOADED_FEATURES << "dotenv.rb"
puts JSON.generate(JSON.parse($stdin.read).map { |src| ERB.new(src, trim_mode: "-").result rescue "#{$!.class}: #{$!.message}" })
`
	cmd := exec.Command(ruby, "-e", script)
	cmd.Dir = dir
	cmd.Env = append(envList(erbEnv), "LANG=C.UTF-8")
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ruby: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(erbCases) {
		t.Fatalf("ruby printed %q (%v)", out, err)
	}
	for i, tt := range erbCases {
		if got[i] != tt.want {
			t.Errorf("%s: Ruby renders %q, the table says %q", tt.name, got[i], tt.want)
		}
	}
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

func TestERBErrors(t *testing.T) {
	const sup = ` (install Ruby, a ruby on PATH, and the file is rendered by Ruby's ERB)`
	tests := []struct {
		name, in, class, msg string
	}{
		{"fetch_missing_is_key_error", `<%= ENV.fetch("NOPE") %>`, kamalerr.ClassKey, `key not found: "NOPE"`},
		{"ruby_method_call", "a: 1\nb: <%= Kamal::Utils.docker_arch %>", kamalerr.ClassConfiguration,
			"config/deploy.yml:2: unsupported ERB: Kamal::Utils in <%= Kamal::Utils.docker_arch %>" + sup},
		{"unknown_method", `<%= ENV["A"].frobnicate %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: the method frobnicate in <%= ENV["A"].frobnicate %>` + sup},
		{"unknown_function", "\n\n<% if foo(1) %><% end %>", kamalerr.ClassConfiguration, "config/deploy.yml:3: unsupported ERB: foo in <% if foo(1) %>" + sup},
		{"method_of_another_class_at_run_time", `<%= "x".port %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: String#port in <%= "x".port %>` + sup},
		{"unknown_library", `<% require "aws-sdk-ssm" %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: require of a library other than Ruby's standard library in <% require "aws-sdk-ssm" %>` + sup},
		{"keyword_arguments", `<%= Dotenv.load(".env", overwrite: true) %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: keyword argument overwrite: in <%= Dotenv.load(".env", overwrite: true) %>` + sup},
		{"adjacent_literals", `<%= "a" "b" %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: "b" in <%= "a" "b" %>` + sup},
		{"unterminated_string", `<%= "abc %>`, kamalerr.ClassConfiguration, `config/deploy.yml:1: unsupported ERB: unterminated string in <%= "abc %>` + sup},
		{"unterminated_tag", "a: 1\n<%= ENV['X']", kamalerr.ClassConfiguration, "config/deploy.yml:2: unterminated ERB tag"},
		{"unsupported_line_of_a_multiline_tag", "a: 1\n<%\n x = 1\n y = $stdin\n%>", kamalerr.ClassConfiguration, "config/deploy.yml:4: unsupported ERB: the variable $stdin in <% x = 1 y = $stdin %>" + sup},
		{"method_on_nil", `<%= ENV["NOPE"].strip %>`, kamalerr.ClassNoMethod, "undefined method 'strip' for nil"},
		{"file_read_missing", `<%= File.read(".ruby-version") %>`, "Errno::ENOENT", "No such file or directory @ rb_sysopen - .ruby-version"},
		{"file_read_missing_inside_a_comment", `# <%= File.read(".ruby-version") %>`, "Errno::ENOENT", "No such file or directory @ rb_sysopen - .ruby-version"},
		{"string_plus_nil", `<%= "a" + ENV["NOPE"] %>`, "TypeError", "no implicit conversion of nil into String"},
		{"missing_program_without_a_shell", "<%= `nosuchprogram-kgo --flag` %>", "Errno::ENOENT", "No such file or directory - nosuchprogram-kgo"},
		{"missing_script", "<%= %x(./registry_password.sh) %>", "Errno::ENOENT", "No such file or directory - ./registry_password.sh"},
		{"integer_of_garbage", `<%= Integer("12abc") %>`, "ArgumentError", `invalid value for Integer(): "12abc"`},
		{"raise", `<% raise "no destination" unless ENV["NOPE"] %>`, kamalerr.ClassRuntime, "no destination"},
		{"uncaught_by_rescue_of_another_class", `<% begin; ENV.fetch("NOPE"); rescue Errno::ENOENT; end %>`, kamalerr.ClassKey, `key not found: "NOPE"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cx := testContext(t.TempDir(), nil)
			_, err := Render(tt.in, cx)
			wantError(t, err, tt.class, tt.msg)
		})
	}
}

// TestERBRubyVersionInComment: the commented-out RUBY_VERSION line of
// kamal init's deploy.yml renders without asking Ruby (the version
// constants only change the comment); a version constant next to
// something with an effect, or outside a comment, goes to Ruby.
func TestERBRubyVersionInComment(t *testing.T) {
	const initLine = `  # RUBY_VERSION: <%= ENV["RBENV_VERSION"] || ENV["rvm_ruby_string"] || "#{RUBY_ENGINE}-#{RUBY_ENGINE_VERSION}" %>` + "\n"
	tests := []struct {
		name, in, want string
		ruby           bool
	}{
		{"kamal_init_line", "a: 1\n" + initLine, "a: 1\n  # RUBY_VERSION: \n", false},
		{"with_a_command", "# <%= `date` || RUBY_VERSION %>\n", "from ruby", true},
		{"with_a_method_call", "# <%= ENV['X'].to_s + RUBY_VERSION %>\n", "from ruby", true},
		{"outside_a_comment", "v: <%= RUBY_VERSION %>\n", "from ruby", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cx := testContext(t.TempDir(), nil)
			asked := false
			cx.Ruby = func(string, map[string]string) (string, error) { asked = true; return "from ruby", nil }
			got, err := Render(tt.in, cx)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, got, tt.want)
			eq(t, asked, tt.ruby)
		})
	}
}

// TestERBCommentLineWithoutRuby: without Ruby, an output tag on a YAML
// comment line that the evaluator cannot run renders as nothing (it can
// only change the comment); anywhere else it is the error.
func TestERBCommentLineWithoutRuby(t *testing.T) {
	cx := testContext(t.TempDir(), nil)
	got, err := Render("a: 1\n  # v: <%= RUBY_ENGINE_VERSION %>\nb: 2\n", cx)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, got, "a: 1\n  # v: \nb: 2\n")
	_, err = Render("a: 1\nv: <%= RUBY_ENGINE_VERSION %> # not a comment line\n", cx)
	wantError(t, err, kamalerr.ClassConfiguration, "config/deploy.yml:2: unsupported ERB: RUBY_ENGINE_VERSION in <%= RUBY_ENGINE_VERSION %> (install Ruby, a ruby on PATH, and the file is rendered by Ruby's ERB)")
}

// TestERBBounds: code that would make the evaluator slow or hungry is
// handed to Ruby (here: reported, there is no Ruby) instead of run.
func TestERBBounds(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"nested_loops", "<% a = %w[a a a a a a a a a a]; a.each { a.each { a.each { a.each { a.each { a.each { a.each { 1 } } } } } } } %>", "code that runs for more than a million steps"},
		{"doubling_string", `<% x = "` + strings.Repeat("a", 64) + `"` + strings.Repeat("; x = x + x", 24) + " %>", "a text of more than 16 MiB"},
		{"deep_nesting", "<%= " + strings.Repeat("(", 10000) + " %>", "code nested too deeply"},
		{"deep_ternary", "<%= " + strings.Repeat("1 ? ", 10000) + "1 %>", "code nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cx := testContext(t.TempDir(), nil)
			_, err := Render(tt.in, cx)
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Message, "unsupported ERB: "+tt.want) {
				t.Fatalf("got %v, want unsupported ERB: %s", err, tt.want)
			}
		})
	}
}

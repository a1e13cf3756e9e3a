package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// psychErrorCases are deploy.yml syntax errors with the error Kamal's
// YAML.unsafe_load raises for them (Ruby 3.1's Psych 4.0.3 on libyaml
// 0.2.5), as "Class: message".
var psychErrorCases = []struct {
	name, src, want string
}{
	{"unclosed_flow_sequence", "service: app\nimage: [app\nservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or ']' while parsing a flow sequence at line 2 column 8"},
	{"unclosed_flow_sequence_in_a_section", "service: app\nbuilder:\n  arch: [amd64\n  remote: ssh://b\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or ']' while parsing a flow sequence at line 3 column 9"},
	{"unclosed_flow_mapping", "service: app\nimage: {a: b\nservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or '}' while parsing a flow mapping at line 2 column 8"},
	{"over_indented_key", "service: app\nimage: app\n  servers: [a]\n",
		"Psych::SyntaxError: (<unknown>): mapping values are not allowed in this context at line 3 column 10"},
	{"tab_indenting_a_key", "service: app\nimage: app\n\tservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): found a tab character that violates indentation while scanning a plain scalar at line 2 column 8"},
	{"tab_before_a_list_item", "service: app\nservers:\n\t- a\n",
		"Psych::SyntaxError: (<unknown>): found character that cannot start any token while scanning for the next token at line 3 column 1"},
	{"unclosed_single_quote", "service: app\nimage: 'app\nservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): found unexpected end of stream while scanning a quoted scalar at line 2 column 8"},
	{"unclosed_double_quote", "service: app\nimage: \"app\nservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): found unexpected end of stream while scanning a quoted scalar at line 2 column 8"},
	{"list_item_under_a_mapping", "service: app\nimage: app\n- a\n",
		"Psych::SyntaxError: (<unknown>): did not find expected key while parsing a block mapping at line 1 column 1"},
	{"list_item_under_a_nested_mapping", "service: app\nregistry:\n  server: r\n  - a\n",
		"Psych::SyntaxError: (<unknown>): did not find expected key while parsing a block mapping at line 3 column 3"},
	{"colon_in_a_plain_value", "service: app\nimage: a: b\n",
		"Psych::SyntaxError: (<unknown>): mapping values are not allowed in this context at line 2 column 9"},
	{"unknown_escape", "service: app\nimage: \"a\\qb\"\n",
		"Psych::SyntaxError: (<unknown>): found unknown escape character while parsing a quoted scalar at line 2 column 8"},
	{"duplicate_yaml_directive", "%YAML 1.1\n%YAML 1.1\n---\nservice: app\n",
		"Psych::SyntaxError: (<unknown>): found duplicate %YAML directive at line 1 column 1"},
	// Where go-yaml v4 reads libyaml's errors differently: placed from v3's line.
	{"key_without_colon", "service: app\nenv\n  clear: {A: b}\n",
		"Psych::SyntaxError: (<unknown>): could not find expected ':' while scanning a simple key at line 2 column 1"},
	{"flow_mapping_as_a_key", "service: app\nenv:\n  clear:\n    {A: b\n    B: c\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or '}' while parsing a flow mapping at line 4 column 5"},
	{"tab_after_a_list_item", "registry:\n  password:\n    - KAMAL_REGISTRY_PASSWORD\n\t\n",
		"Psych::SyntaxError: (<unknown>): found a tab character that violates indentation while scanning a plain scalar at line 3 column 7"},
	{"tab_before_an_indented_item", "servers:\n  web:\n     \t - a\n",
		"Psych::SyntaxError: (<unknown>): found character that cannot start any token while scanning for the next token at line 3 column 6"},
	{"anchor_running_into_a_dot", "servers:\n  - &65.21.185.202\n",
		"Psych::SyntaxError: (<unknown>): did not find expected alphabetic or numeric character while scanning an anchor at line 2 column 5"},
	{"stray_colon_line", "service: app\nimage: a\n: \nenv: {}\n",
		"Psych::SyntaxError: (<unknown>): did not find expected key while parsing a block mapping at line 1 column 1"},
	{"unclosed_flow_sequence_in_a_list", "env:\n  secret:\n    - [A\n    - B\n  clear:\n    C: d\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or ']' while parsing a flow sequence at line 3 column 7"},
	{"unknown_alias_then_a_syntax_error", "service: *app\nimage: [app\nservers: [a]\n",
		"Psych::SyntaxError: (<unknown>): did not find expected ',' or ']' while parsing a flow sequence at line 2 column 8"},
	{"unknown_alias_before_a_key", "env:\n  clear:\n    A: b\n    *nope C: d\n",
		"Psych::SyntaxError: (<unknown>): did not find expected key while parsing a block mapping at line 3 column 5"},
	{"unknown_alias", "service: app\nimage: *app\n",
		"Psych::BadAlias: Unknown alias: app"},
	{"unknown_alias_merged", "service: app\nbuilder:\n  <<: *defaults\n",
		"Psych::BadAlias: Unknown alias: defaults"},
}

func TestYAMLErrorsAreWhatPsychRaises(t *testing.T) {
	for _, tt := range psychErrorCases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseYAML("config/deploy.yml", []byte(tt.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("parseYAML: %v, want %s", err, tt.want)
			}
			if got := e.Class + ": " + e.Message; got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The expected errors above are Psych's own: the Ruby tests/run installs
// raises exactly them.
func TestPsychErrorCasesAreRubysOwn(t *testing.T) {
	ruby := needRuby(t)
	dir := t.TempDir()
	var files []string
	for _, tt := range psychErrorCases {
		f := filepath.Join(dir, tt.name+".yml")
		if err := os.WriteFile(f, []byte(tt.src), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	// Kamal: YAML.unsafe_load(rendered_erb) (configuration.rb).
	script := `ARGV.each { |f| begin; YAML.unsafe_load(File.read(f)); puts "loaded"; rescue Exception => e; puts "#{e.class}: #{e.message}"; end }`
	out, err := exec.Command(ruby, append([]string{"-ryaml", "-e", script}, files...)...).Output()
	if err != nil {
		t.Fatalf("ruby: %v", err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(psychErrorCases) {
		t.Fatalf("ruby printed %d lines for %d documents:\n%s", len(got), len(psychErrorCases), out)
	}
	for i, tt := range psychErrorCases {
		if got[i] != tt.want {
			t.Errorf("%s: ruby raises\n  %s\nwant\n  %s", tt.name, got[i], tt.want)
		}
	}
}

// go-yaml v4 refuses these; libyaml (and so Kamal) reads them, and so
// does the parser here (v4 only locates errors).
func TestYAMLThatLibyamlAcceptsLoads(t *testing.T) {
	for _, src := range []string{
		"service: \"app\"#comment\n",
		"servers: [a]#comment\n",
		"service: app\n... trailing\n",
	} {
		if _, err := parseYAML("config/deploy.yml", []byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
}

// v3 reports a parser error on the 0-based line of its context mark: the
// unclosed '[' of "- [A" is on (1-based) line 3, at column 7.
func TestLibyamlGuessPlacesAnUnclosedFlowSequenceFromV3sLine(t *testing.T) {
	src := []byte("env:\n  secret:\n    - [A\n    - B\n\nasset_path: x\n")
	where, context, ok := libyamlGuess(src, 2, "did not find expected ',' or ']'")
	if !ok || where != "line 3 column 7" || context != "while parsing a flow sequence" {
		t.Errorf("got %q %q %v, want line 3 column 7, while parsing a flow sequence", where, context, ok)
	}
}

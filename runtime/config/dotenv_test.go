package config

import (
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func TestDotenv(t *testing.T) {
	env := map[string]string{"HOME_DIR": "/home/me", "SHARED": "from-env"}
	tests := []struct {
		name string
		in   string
		want []string // KEY=value pairs in file order
	}{
		{"plain", "A=1\nB=two words\n", []string{"A=1", "B=two words"}},
		{"blank_lines_and_comments", "\n# comment\n  \nA=1 # trailing\n#B=2\n", []string{"A=1"}},
		{"hash_ends_unquoted_value", "A=foo#bar\n", []string{"A=foo"}},
		{"spaces_around_equals", "A = 1\nB=  padded  \n", []string{"A=1", "B=padded"}},
		{"export_prefix", "export A=1\nexport\tB='x'\n", []string{"A=1", "B=x"}},
		{"export_of_defined_key", "A=1\nexport A\n", []string{"A=1"}},
		{"key_named_export", "export=1\n", []string{"export=1"}},
		{"colon_separator", "A: 1\nB:  'two'\n", []string{"A=1", "B=two"}},
		{"dotted_keys", "a.b_C=1\n", []string{"a.b_C=1"}},
		{"key_without_value", "A\nB=\nC=#c\n", []string{"A=", "B=", "C="}},
		{"single_quotes_are_literal", `A='$HOME_DIR $(echo no) \n \' x'` + "\n", []string{`A=$HOME_DIR $(echo no) \n \' x`}},
		{"double_quotes_unescape", `A="a \"q\" \\ \$x b#c"` + "\n", []string{`A=a "q" \ $x b#c`}},
		{"double_quotes_keep_newline_escape", `A="line1\nline2\r"` + "\n", []string{`A=line1\nline2\r`}},
		{"legacy_linebreak_mode_expands", "DOTENV_LINEBREAK_MODE=legacy\nA=\"l1\\nl2\"\n", []string{"DOTENV_LINEBREAK_MODE=legacy", "A=l1\nl2"}},
		{"double_quotes_span_lines", "A=\"l1\nl2\"\nB=2\n", []string{"A=l1\nl2", "B=2"}},
		{"quote_then_comment", `A="x" # note` + "\n", []string{"A=x"}},
		{"unclosed_quote_is_unquoted", `A="abc` + "\n", []string{`A="abc`}},
		{"text_after_quote_makes_it_unquoted", `A='x' y` + "\n", []string{`A='x' y`}},
		{"escaped_quote_can_close", `A="abc\"` + "\n", []string{`A=abc\`}},
		{"unquoted_unescape", `A=a\b\\c` + "\n", []string{`A=ab\c`}},
		{"variable_from_earlier_key", "A=1\nB=${A}-$A\n", []string{"A=1", "B=1-1"}},
		{"variable_from_env", "B=$HOME_DIR/x\n", []string{"B=/home/me/x"}},
		{"file_key_beats_env", "SHARED=file\nB=$SHARED\n", []string{"SHARED=file", "B=file"}},
		{"later_key_not_visible", "B=$A.\nA=1\n", []string{"B=.", "A=1"}},
		{"missing_variable_is_empty", "B=[$NOPE][${NOPE}]\n", []string{"B=[][]"}},
		{"escaped_variable", `B=\$A \${A}` + "\n", []string{"B=$A ${A}"}},
		{"lone_dollar", "B=$ ${} $.\n", []string{"B=$ ${} $."}},
		{"variables_in_double_quotes", "A=1\nB=\"$A ${A}\"\n", []string{"A=1", `B=1 1`}},
		{"command_substitution", "A=$(echo hello)\n", []string{"A=hello"}},
		{"command_output_newline_chomped_once", "A=\"$(printf 'x\\n\\n')\"\n", []string{"A=x\n"}},
		{"nested_command", "A=$(echo $(echo inner))\n", []string{"A=inner"}},
		{"command_sees_variables", "X=abc\nA=$(echo ${X}d)\n", []string{"X=abc", "A=abcd"}},
		{"command_output_is_variable_substituted", "X=1\nA=$(echo '$X')\n", []string{"X=1", "A=1"}},
		{"escaped_command_is_literal", `A=\$(echo no)` + "\n", []string{"A=$(echo no)"}},
		{"unbalanced_command_is_literal", "A=$(echo\n", []string{"A=$(echo"}},
		{"empty_command_is_literal", "A=$()\n", []string{"A=$()"}},
		{"command_in_dir", "A=$(cat marker)\n", []string{"A=here"}},
		{"crlf_lines", "A=1\r\nB=\"2\"\r\n", []string{"A=1", "B=2"}},
		{"duplicate_key_later_wins_both_listed", "A=1\nA=2\n", []string{"A=1", "A=2"}},
		{"indented_assignment", "   A=1\n", []string{"A=1"}},
		// The gem opens files "rb:bom|utf-8": a leading BOM is dropped.
		{"utf8_byte_order_mark", "\uFEFFA=1\nB=2\n", []string{"A=1", "B=2"}},
		{"export_with_empty_value_of_defined_key", "F=1\nexport F=\n", []string{"F=1"}},
		{"export_with_blank_value", "export F= \n", []string{"F="}},
	}
	dir := t.TempDir()
	writeFile(t, dir+"/marker", "here\n")
	sh := &shell{dir: dir, stderr: io.Discard}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, err := parseDotenv(tt.in, dotenvOptions{name: ".kamal/secrets", getenv: mapEnv(env), run: sh.output})
			if err != nil {
				t.Fatalf("parseDotenv: %v", err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.key+"="+e.value)
			}
			eq(t, got, tt.want)
		})
	}
}

func TestDotenvErrors(t *testing.T) {
	tests := []struct {
		name, in, class, msg string
	}{
		{"malformed_line_names_line_not_content", "A=1\n\nthis is hunter2\n", kamalerr.ClassDotenvFormat, ".kamal/secrets:3: malformed line (expected KEY=value)"},
		{"colon_needs_a_blank", "A:1\n", kamalerr.ClassDotenvFormat, ".kamal/secrets:1: malformed line (expected KEY=value)"},
		{"key_with_dash", "MY-KEY=1\n", kamalerr.ClassDotenvFormat, ".kamal/secrets:1: malformed line (expected KEY=value)"},
		{"line_number_after_multiline_value", "A=\"x\ny\"\n=oops\n", kamalerr.ClassDotenvFormat, ".kamal/secrets:3: malformed line (expected KEY=value)"},
		{"export_without_value", "export A\n", kamalerr.ClassDotenvFormat, `.kamal/secrets:1: Line "export A" has an unset variable`},
		// dotenv 3's LINE regexp leaves the value group empty after "=":
		// the same FormatError.
		{"export_with_empty_value", "B=1\nexport F=\n", kamalerr.ClassDotenvFormat, `.kamal/secrets:2: Line "export F=" has an unset variable`},
		{"export_with_empty_value_at_the_end", "export F=", kamalerr.ClassDotenvFormat, `.kamal/secrets:1: Line "export F=" has an unset variable`},
		{"failing_command_names_status_not_output", "A=1\nB=$(echo hunter2; exit 3)\n", kamalerr.ClassRuntime, ".kamal/secrets:2: command $(echo hunter2; exit 3) failed with exit status 3"},
		{"failing_command_not_found", "B=$(definitely-not-a-command-xyz)\n", kamalerr.ClassRuntime, ".kamal/secrets:1: command $(definitely-not-a-command-xyz) failed with exit status 127"},
		// The token substituted into the command is another secret: the
		// command is quoted as written.
		{"failing_command_quoted_as_written", "API_TOKEN=tok-9f8e7d6c5b4a\nB=$(curl -sf -H \"Authorization: Bearer $API_TOKEN\" http://127.0.0.1:1/ || exit 7)\n", kamalerr.ClassRuntime,
			`.kamal/secrets:2: command $(curl -sf -H "Authorization: Bearer $API_TOKEN" http://127.0.0.1:1/ || exit 7) failed with exit status 7`},
		{"failing_command_with_env_token_quoted_as_written", "B=$(exit 5; echo ${ENV_TOKEN})\n", kamalerr.ClassRuntime,
			`.kamal/secrets:1: command $(exit 5; echo ${ENV_TOKEN}) failed with exit status 5`},
	}
	sh := &shell{dir: t.TempDir(), stderr: io.Discard}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseDotenv(tt.in, dotenvOptions{name: ".kamal/secrets", getenv: mapEnv(map[string]string{"ENV_TOKEN": "env-token-123456"}), run: sh.output})
			wantError(t, err, tt.class, tt.msg)
			if strings.Contains(tt.in, "hunter2") && strings.Contains(err.Error(), "hunter2") && !strings.Contains(tt.in, "echo hunter2") {
				t.Errorf("error leaks line content: %v", err)
			}
		})
	}
}

func TestDotenvKeepEnv(t *testing.T) {
	ran := false
	entries, err := parseDotenv("A=$(touch x)\nB=$A\n", dotenvOptions{
		name: ".env", getenv: mapEnv(map[string]string{"A": "env"}), keepEnv: true,
		run: func(string) (string, int, error) { ran = true; return "", 0, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	eq(t, entries, []dotenvEntry{{key: "A", value: "env", line: 1}, {key: "B", value: "env", line: 2}})
	if ran {
		t.Error("command of a key already in the environment was run")
	}
}

func TestInlineSecretsCommandsRunInProcess(t *testing.T) {
	var got [][]string
	p := &dotenvParser{o: dotenvOptions{name: ".kamal/secrets",
		run: func(string) (string, int, error) { t.Fatal("kamal secrets ran through the shell"); return "", 0, nil },
		inline: func(args []string) (string, error) {
			got = append(got, args)
			return "value\n", nil
		}}, hash: map[string]string{"SECRETS": `\{\"a\":\"b\"\}`}}
	out, err := p.command("kamal secrets extract A $SECRETS", 1)
	if err != nil || out != "value" {
		t.Fatalf("command = %q, %v", out, err)
	}
	want := [][]string{{"secrets", "extract", "A", `{"a":"b"}`, "--inline"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("inline got %q, want %q", got, want)
	}
}

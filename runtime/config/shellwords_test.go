package config

import (
	"reflect"
	"testing"
)

func TestShellSplitFollowsRubyShellwords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"kamal secrets fetch --adapter 1password A/B/C", []string{"kamal", "secrets", "fetch", "--adapter", "1password", "A/B/C"}},
		{`extract X \{\"a/X\":\"p\ w\"\}`, []string{"extract", "X", `{"a/X":"p w"}`}},
		{`a 'b c' "d \"e\" \n" f\ g`, []string{"a", "b c", `d "e" \n`, "f g"}},
		{`''`, []string{""}},
		{"a'b'\"c\"d", []string{"abcd"}},
		{"  ", nil},
	}
	for _, tt := range tests {
		got, err := shellSplit(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shellSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := shellSplit(`a "b`); err == nil {
		t.Error("an unmatched quote should be an error")
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

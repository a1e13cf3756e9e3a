package shell

import (
	"strings"
	"testing"
)

func TestEscapeV1DumpsLikeRuby(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "secret", `"secret"`},
		{"bmp character is an uppercase \\u escape", "héllo", `"h\u00E9llo"`},
		{"astral character is an uppercase \\u{} escape", "a😀", `"a\u{1F600}"`},
		{"invalid byte is a \\x escape", "a\xffb", `"a\xFFb"`},
		{"dollar without braces is escaped", "$PWD", `"\$PWD"`},
		{"dollar group is left for the shell", "${PWD}", `"${PWD}"`},
		{"backtick is escaped", "a`b", "\"a\\`b\""},
		{"interpolation marker is escaped", "#{x}", `"\#{x}"`},
		{"empty", "", `""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EscapeV1(tt.in); got != tt.want {
				t.Errorf("EscapeV1(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestShellwordsRoundTripsThroughTheShell(t *testing.T) {
	tests := map[string]string{
		``:                    `''`,
		`{"a/B":"p w"}`:       `\{\"a/B\":\"p\ w\"\}`,
		"x\ny":                "x'\n'y",
		"kamal-go_1.2,3:4+@/": "kamal-go_1.2,3:4+@/",
		"é$`!":                `\é\$\` + "`" + `\!`,
	}
	for in, want := range tests {
		if got := Shellwords(in); got != want {
			t.Errorf("Shellwords(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.Contains(Shellwords("'"), `\'`) {
		t.Error("a single quote must be escaped")
	}
}

package config

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

func TestPsychScalar(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"", nil}, {"~", nil}, {"null", nil}, {"NULL", nil},
		{"true", true}, {"Yes", true}, {"on", true}, {"false", false}, {"no", false}, {"OFF", false},
		{"y", "y"}, {"n", "n"}, {"nothing", "nothing"},
		{"42", 42}, {"-7", -7}, {"1_000", 1000}, {"0x1F", 31}, {"010", 8}, {"0b101", 5}, {"0", 0},
		{"3.10", 3.1}, {"1.", 1.0}, {".5", 0.5}, {"1.5e+3", 1500.0},
		{"1.2.3", "1.2.3"}, {"3.3.0", "3.3.0"}, {"1.1.1.1", "1.1.1.1"},
		{":quiet", "quiet"}, {":\"a b\"", "a b"},
		{"amd64", "amd64"}, {"localhost:5000", "localhost:5000"},
		// Psych 4.0.3 (Debian's ruby 3.1, YAML.unsafe_load as Kamal 2.12
		// loads): a date is a Date, an impossible one a string; base 60
		// counts the first of two parts in hours (12:30 is 45000).
		{"2024-01-01", rubyDate("2024-01-01")}, {"2012-1-5", rubyDate("2012-01-05")}, {"2012-02-30", "2012-02-30"},
		{"12:30", 45000}, {"12:30:00", 45000}, {"1:2:3", 3723}, {"-1:30", -1800}, {"1:60", "1:60"},
		{"1:2:3.5", 3723.5}, {"190:20:30", 685230},
		{"99999999999999999999", "99999999999999999999"},
	}
	for _, tt := range tests {
		got := psychScalar(tt.in)
		if got != tt.want {
			t.Errorf("psychScalar(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
	if v, ok := psychScalar(".inf").(float64); !ok || !math.IsInf(v, 1) {
		t.Errorf(".inf = %v", psychScalar(".inf"))
	}
}

func TestRubyString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, ""}, {"s", "s"}, {true, "true"}, {12, "12"},
		{1.0, "1.0"}, {3.1, "3.1"}, {1e20, "1.0e+20"}, {1.5e-5, "1.5e-05"}, {100.0, "100.0"},
		{[]any{"a", 1}, `["a", 1]`},
	}
	for _, tt := range tests {
		if got := rubyString(tt.in); got != tt.want {
			t.Errorf("rubyString(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAliasBomb(t *testing.T) {
	defer func(n int) { maxYAMLNodes = n }(maxYAMLNodes)
	maxYAMLNodes = 10_000
	doc := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := 0; i < 9; i++ {
		name := string(rune('b' + i))
		doc += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	_, err := parseYAML("bomb.yml", []byte(doc))
	wantError(t, err, kamalerr.ClassYAMLSyntax, "(bomb.yml): document too large after alias expansion")
}

// Kamal 2 loads a 60,000-variable env.clear (about 700 KB): only nodes
// copied for aliases count against maxYAMLNodes.
func TestLargeConfigWithoutAliasesLoads(t *testing.T) {
	var b strings.Builder
	b.WriteString(v2Base + "env:\n  clear:\n")
	for i := 0; i < 60_000; i++ {
		fmt.Fprintf(&b, "    VARIABLE_NUMBER_%05d: value\n", i)
	}
	c := mustLoad(t, deploy(b.String()))
	env, _ := c.Raw["env"].(map[string]any)
	clear, _ := env["clear"].(map[string]any)
	if n := len(clear); n != 60_000 {
		t.Fatalf("env.clear has %d variables, want 60000", n)
	}
}

func TestPsychBinaryIsDecoded(t *testing.T) {
	m, err := parseYAML("x.yml", []byte("a: !!binary aGVsbG8=\nb: !!binary |\n  aGVs\n  bG8gd29ybGQ=\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := m.get("a"); a != "hello" {
		t.Errorf("a = %#v, want \"hello\"", a)
	}
	if b, _ := m.get("b"); b != "hello world" {
		t.Errorf("b = %#v, want \"hello world\"", b)
	}
}

// Kamal's validator takes a Date for no string (Kamal 2.12:
// "service: should be a string").
func TestDateWhereAStringIsExpectedIsRefusedAsKamalDoes(t *testing.T) {
	_, err := deploy(strings.Replace(v2Base, "service: app", "service: 2012-01-01", 1)).load(t)
	wantError(t, err, kamalerr.ClassConfiguration, "service: should be a string")
	if got := rubyInspect(rubyDate("2012-01-01")); got != "#<Date: 2012-01-01 ((2455928j,0s,0n),+0s,2299161j)>" {
		t.Errorf("Date#inspect = %s", got)
	}
}

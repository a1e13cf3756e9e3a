package ruby

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
		got, err := Shellsplit(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Shellsplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Shellsplit(`a "b`); err == nil {
		t.Error("an unmatched quote should be an error")
	}
}

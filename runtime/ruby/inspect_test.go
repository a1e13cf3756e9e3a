package ruby

import "testing"

// What Ruby 3.1 prints for each (ruby -e 'p "…"'), including the
// characters it escapes as \u and the bytes that are not UTF-8.
func TestInspectStringIsRubys(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\n\t\r\f\v\a\b\x1b", `"\n\t\r\f\v\a\b\e"`},
		{"\x01", `"\u0001"`},
		{"\x7f", `"\u007F"`},
		{"#{x} #$x #@x #x #", `"\#{x} \#$x \#@x #x #"`},
		{"é\u200b\u00a0\u0085", "\"é\u200b\u00a0\u0085\""},
		{"\u2028\u0378", `"\u2028\u0378"`},
		{"\U0010ffff", `"\u{10FFFF}"`},
		{"\ufffd", "\"\ufffd\""},
		{"a\xffb", `"a\xFFb"`},
	}
	for _, tt := range tests {
		if got := InspectString(tt.in); got != tt.want {
			t.Errorf("InspectString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := InspectStrings([]string{"a", "b"}); got != `["a", "b"]` {
		t.Errorf("InspectStrings = %s", got)
	}
}

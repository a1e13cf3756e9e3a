package main

import (
	"slices"
	"testing"
)

func TestHandOffLeavesOutKamalGosOwnOptions(t *testing.T) {
	tests := []struct{ in, want []string }{
		{[]string{"deploy", "-d", "staging"}, []string{"deploy", "-d", "staging"}},
		{[]string{"deploy", "--trace", "-d", "staging", "--script", "x.star"}, []string{"deploy", "-d", "staging"}},
		{[]string{"redeploy", "--script=x.star", "--break", "@kamal//deploy.star:3", "--dap=127.0.0.1:4711", "-v"}, []string{"redeploy", "-v"}},
		{[]string{"setup", "--dry-run", "--no-cache"}, []string{"setup", "--no-cache"}},
	}
	for _, tt := range tests {
		if got := withoutKamalGoOptions(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("withoutKamalGoOptions(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

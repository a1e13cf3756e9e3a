package builtins

import "testing"

func TestBuildxVersionGatesTheLayerCacheOutput(t *testing.T) {
	tests := []struct {
		line string
		want bool
	}{
		{"github.com/docker/buildx v0.38.2 6d1ee5b4a1a7a21b0bb0b0e6f4f5a7c9d3b3e1f2", true},
		{"github.com/docker/buildx v0.13.0 0de5f1c", true},
		{"github.com/docker/buildx v0.12.1 30feaa1", false},
		{"github.com/docker/buildx 0.10.2+ds1 0.10.2+ds1-1", false},
		{"github.com/docker/buildx v1.0.0 abc", true},
		{"docker: 'buildx' is not a docker command.", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := buildxAtLeast(tt.line, 0, 13); got != tt.want {
			t.Errorf("buildxAtLeast(%q, 0, 13) = %v, want %v", tt.line, got, tt.want)
		}
	}
}

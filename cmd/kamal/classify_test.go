package main

import (
	"fmt"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

func TestClassifyKeepsTheOutermostClassedError(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		class string
		msg   string
	}{
		{"config error alone", kamalerr.New("Kamal::ConfigurationError", "unknown key: x"), "Kamal::ConfigurationError", "unknown key: x"},
		{"wrapped config error", fmt.Errorf("loading: %w", kamalerr.New("KeyError", `key not found: "X"`)), "KeyError", `key not found: "X"`},
		{"host error keeps its host prefix and the cause's class",
			&sshkit.HostError{Host: "server2", Err: kamalerr.New("Kamal::ConfigurationError", "Secret 'X' not found")},
			"Kamal::ConfigurationError", "Exception while executing on host server2: Secret 'X' not found"},
		{"a script's own error has no class", fmt.Errorf("boom"), "", "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			class, msg := classify(tt.err)
			if class != tt.class || msg != tt.msg {
				t.Fatalf("classify = (%q, %q), want (%q, %q)", class, msg, tt.class, tt.msg)
			}
		})
	}
}

package main

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
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

func TestExitCodeIsTheOnePlaceErrorsBecomeStatuses(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		line   string
	}{
		{"success", nil, 0, ""},
		{"usage error", usageError(`Could not find command "x".`), 1, "  \x1b[31mERROR (ArgumentError): Could not find command \"x\".\x1b[0m\n"},
		{"classed error", kamalerr.New("Kamal::Cli::LockError", "Deploy lock found"), 1, "  \x1b[31mERROR (Kamal::Cli::LockError): Deploy lock found\x1b[0m\n"},
		{"unclassed error", fmt.Errorf("boom"), 1, "  \x1b[31mERROR (RuntimeError): boom\x1b[0m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			c := &cli{streams: streams{Out: &out, Err: &errb}, log: log.New(&out, false)}
			if got := c.exitCode(tt.err); got != tt.status {
				t.Errorf("exitCode = %d, want %d", got, tt.status)
			}
			if out.String() != tt.line {
				t.Errorf("printed %q, want %q", out.String(), tt.line)
			}
		})
	}
}

func TestExitCodeAfterASignalIs128PlusIt(t *testing.T) {
	var out strings.Builder
	c := &cli{streams: streams{Out: &out, Err: &out}, log: log.New(&out, false)}
	c.sigs = &interrupts{received: syscall.SIGTERM}
	if got := c.exitCode(fmt.Errorf("context canceled")); got != 143 {
		t.Errorf("exitCode = %d, want 143", got)
	}
	if !strings.Contains(out.String(), "ERROR (Interrupt): Interrupted") {
		t.Errorf("printed %q", out.String())
	}
}

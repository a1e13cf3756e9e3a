package fakeworld

import (
	"bytes"
	"context"
	"regexp"
	"testing"

	"github.com/kamal-go/kamal/runtime/executor"
)

// run sends script to host and returns its status and output.
func run(t *testing.T, w *World, host string, req executor.Request) (int, string) {
	t.Helper()
	var out bytes.Buffer
	req.Stdout = &out
	status, err := w.Run(context.Background(), host, req)
	if err != nil {
		t.Fatal(err)
	}
	return status, out.String()
}

func TestRulesAnswerByHostAndText(t *testing.T) {
	w := New(Rule{Match: "docker pull", Status: 1, Stdout: "any\n"})
	w.Answer(Rule{Host: "server2", Pattern: regexp.MustCompile(`^docker pull`), Status: 2, Stdout: "server2\n"})
	w.Answer(Rule{Host: Local, Pattern: regexp.MustCompile(`pull`), Stdout: "local\n"})
	w.Answer(Rule{Host: "server3", Pattern: regexp.MustCompile(`\[REDACTED\]`), Status: 3})
	tests := []struct {
		name, host, script, shown string
		status                    int
		out                       string
	}{
		{"a rule for every host", "server1", "docker pull app", "docker pull app", 1, "any\n"},
		{"a later answer for one host wins", "server2", "docker pull app", "docker pull app", 2, "server2\n"},
		{"localhost is this machine", "", "docker pull app", "docker pull app", 0, "local\n"},
		{"a pattern reads the command as shown", "server3", "login s3cret", "login [REDACTED]", 3, ""},
		{"a substring rule matches the executed text", "server1", "docker pull s3cret", "docker pull [REDACTED]", 1, "any\n"},
		{"no rule: success, no output", "server1", "true", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := run(t, w, tt.host, executor.Request{Script: tt.script, Logged: tt.shown})
			if status != tt.status || out != tt.out {
				t.Errorf("got %d %q, want %d %q", status, out, tt.status, tt.out)
			}
		})
	}
}

func TestRanRecordsTheShownFormAndQueriesPassThrough(t *testing.T) {
	w := New()
	w.Redact = func(s string) string { return regexp.MustCompile(`s3cret`).ReplaceAllString(s, "[REDACTED]") }
	var queried []string
	w.Queries = transportFunc(func(_ context.Context, host string, req executor.Request) (int, error) {
		queried = append(queried, req.Script)
		return 0, nil
	})
	run(t, w, "server1", executor.Request{Script: "login s3cret", Logged: "login [REDACTED]"})
	run(t, w, "", executor.Request{Script: "echo s3cret"})
	run(t, w, "", executor.Request{Script: "git rev-parse HEAD", Query: true})
	got := w.Ran()
	if len(got) != 2 || got[0].Shown != "login [REDACTED]" || got[1].Shown != "echo [REDACTED]" || got[1].Host != "" {
		t.Errorf("ran %+v", got)
	}
	if len(queried) != 1 || queried[0] != "git rev-parse HEAD" {
		t.Errorf("queries %q, want the git query only, unrecorded", queried)
	}
	w.Reset()
	if len(w.Ran()) != 0 {
		t.Error("Reset kept commands")
	}
}

type transportFunc func(context.Context, string, executor.Request) (int, error)

func (f transportFunc) Run(ctx context.Context, host string, req executor.Request) (int, error) {
	return f(ctx, host, req)
}

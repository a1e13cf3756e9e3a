package main

import (
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/cmd/kamal/internal/thor"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// TestRetryArgvReplacesTheHostSelectionOnly checks each command line's
// retry with the parser itself: the retry selects exactly the failed
// hosts and keeps every other option and argument the user gave.
func TestRetryArgvReplacesTheHostSelectionOnly(t *testing.T) {
	top := grammar(stockBuildCommands(t))
	for _, argv := range [][]string{
		{"build", "pull"},
		{"build", "pull", "-h", "server1,server2,server3", "-d", "staging"},
		{"build", "pull", "--hosts=server*", "-v"},
		{"build", "pull", "-h=server1", "--roles", "web", "-c", "config/other.yml"},
		{"build", "pull", "-r", "web,workers", "--version", "abc"},
		{"build", "pull", "-p", "true", "-q"},
		{"build", "pull", "--primary", "--skip-hooks"},
		{"build", "pull", "-vp", "-d", "production"},
		{"build", "pull", "-vh", "server1", "--lock-wait"},
		{"build", "pull", "--no-hosts", "--no-primary", "false"},
		{"build", "-d", "staging", "pull", "-h", "server1"},
		{"build", "deliver", "-h", "server1", "--script", "my build.star"},
		{"build", "pull", "-r", "-v"},
	} {
		t.Run(strings.Join(argv, " "), func(t *testing.T) {
			failed := []string{"server2", "server3"}
			retry := retryArgv(argv, failed)
			before, err := thor.Parse(argv, top)
			if err != nil {
				t.Fatal(err)
			}
			after, err := thor.Parse(retry, top)
			if err != nil {
				t.Fatalf("retry %q: %v", retry, err)
			}
			if got := after.Options.String("hosts"); got != "server2,server3" {
				t.Errorf("retry %q selects hosts %q", retry, got)
			}
			if after.Options.Has("roles") || after.Options.Bool("primary") {
				t.Errorf("retry %q still selects roles %v or primary", retry, after.Options["roles"])
			}
			if !reflect.DeepEqual(before.Path, after.Path) || !reflect.DeepEqual(before.Args, after.Args) {
				t.Errorf("retry %q runs %q %q, not %q %q", retry, after.Path, after.Args, before.Path, before.Args)
			}
			rest := func(v thor.Values) thor.Values {
				v = maps.Clone(v)
				for k := range hostSelection {
					delete(v, k)
				}
				return v
			}
			if b, a := rest(before.Options), rest(after.Options); !reflect.DeepEqual(b, a) {
				t.Errorf("retry %q changes the other options:\n%v\nto\n%v", retry, b, a)
			}
		})
	}
}

func TestRetryLineCountsTheFailedHostsAndQuotesTheCommand(t *testing.T) {
	err := fmt.Errorf("in pull: %w", &sshkit.FanOutError{
		HostErrors: sshkit.HostErrors{{Host: "server2"}},
		Hosts:      []string{"server1", "server2", "server3"},
		Failed:     []string{"server2"},
	})
	got := retryLine(err, []string{"build", "pull", "-d", "staging", "--script", "my build.star"})
	want := "1 of 3 hosts failed (server2); to retry only them: kamal build pull -d staging --script 'my build.star' -h server2"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRetryLineIsNotPrintedForOneHostOrOtherErrors(t *testing.T) {
	one := &sshkit.FanOutError{HostErrors: sshkit.HostErrors{{Host: "server1"}}, Hosts: []string{"server1"}, Failed: []string{"server1"}}
	for _, err := range []error{one, fmt.Errorf("plain")} {
		if got := retryLine(err, []string{"build", "pull"}); got != "" {
			t.Errorf("%v: retry line %q", err, got)
		}
	}
}

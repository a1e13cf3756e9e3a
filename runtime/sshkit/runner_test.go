package sshkit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
)

// fake is a transport that answers from a script of (status, stdout,
// stderr) by host, and records what it ran.
type fake struct {
	status int
	out    string
	err    string
	fail   error
	ran    []string
}

func (f *fake) Run(_ context.Context, host string, req executor.Request) (int, error) {
	f.ran = append(f.ran, host+": "+req.Script)
	if f.fail != nil {
		return 0, f.fail
	}
	io.WriteString(req.Stdout, f.out)
	io.WriteString(req.Stderr, f.err)
	return f.status, nil
}

var ids = regexp.MustCompile(`\[[0-9a-f]{8}\]`)
var secs = regexp.MustCompile(`\d+\.\d{3} seconds`)

func norm(s string) string {
	return secs.ReplaceAllString(ids.ReplaceAllString(s, "[ID]"), "N seconds")
}

func newRunner(t *fake, dry bool) (*Runner, *bytes.Buffer) {
	var out bytes.Buffer
	l := log.New(&out, false)
	return &Runner{Log: l, Local: t, Remote: t, DryRun: dry}, &out
}

func TestRun(t *testing.T) {
	login := shell.New("docker", "login", "reg").Arg("-u").Secret(`"user"`).Arg("-p").Secret(`"pw-s3cret"`)
	tests := []struct {
		name    string
		host    string
		cmd     *shell.Command
		opts    Options
		tr      fake
		dry     bool
		wantLog string
		wantErr string
		class   string
	}{
		{
			name:    "local success names the local user",
			cmd:     shell.New("docker", "--version"),
			opts:    Options{Level: log.Info},
			tr:      fake{out: "Docker version 28\n"},
			wantLog: "  INFO [ID] Running docker --version on localhost\n  INFO [ID] Finished in N seconds with exit status 0 (successful).\n",
		},
		{
			name:    "local failure reports status times 256 and no Finished line",
			cmd:     shell.New("docker", "build", "."),
			opts:    Options{Level: log.Info},
			tr:      fake{status: 1, out: "boom\n"},
			wantLog: "  INFO [ID] Running docker build . on localhost\n",
			wantErr: "docker exit status: 256\ndocker stdout: boom\ndocker stderr: Nothing written",
			class:   "SSHKit::Command::Failed",
		},
		{
			name:    "remote failure is wrapped with the host",
			host:    "server2",
			cmd:     shell.New("docker", "pull", "app:1"),
			opts:    Options{Level: log.Info},
			tr:      fake{status: 1, err: "denied\n"},
			wantLog: "  INFO [ID] Running docker pull app:1 on server2\n",
			wantErr: "Exception while executing on host server2: docker exit status: 1\ndocker stdout: Nothing written\ndocker stderr: denied",
			class:   "SSHKit::Command::Failed",
		},
		{
			name:    "no-raise logs the failed status",
			host:    "server1",
			cmd:     shell.New("docker", "image", "rm", "--force", "x"),
			opts:    Options{Level: log.Info, NoRaise: true},
			tr:      fake{status: 1},
			wantLog: "  INFO [ID] Running docker image rm --force x on server1\n  INFO [ID] Finished in N seconds with exit status 1 (failed).\n",
		},
		{
			name:    "rescue logs nothing more",
			cmd:     shell.New("git", "clone", "x"),
			opts:    Options{Level: log.Info, Rescue: true},
			tr:      fake{status: 128},
			wantLog: "  INFO [ID] Running /usr/bin/env git clone x on localhost\n",
		},
		{
			name:    "connection errors name the host and the cause's class",
			host:    "server3",
			cmd:     shell.New("mkdir", "-p", ".kamal"),
			opts:    Options{Level: log.Info},
			tr:      fake{fail: errors.New("ssh server3: dial tcp 127.0.0.13:22: connect: connection refused")},
			wantLog: "  INFO [ID] Running /usr/bin/env mkdir -p .kamal on server3\n",
			wantErr: "Exception while executing on host server3: ssh server3: dial tcp 127.0.0.13:22: connect: connection refused",
			class:   "Errno::ECONNREFUSED",
		},
		{
			name:    "dry run prints a successful run and runs nothing",
			cmd:     login,
			opts:    Options{Level: log.Info},
			dry:     true,
			wantLog: "  INFO [ID] Running docker login reg -u [REDACTED] -p [REDACTED] on localhost\n  INFO [ID] Finished in N seconds with exit status 0 (successful).\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := tt.tr
			r, out := newRunner(&tr, tt.dry)
			_, err := r.Run(context.Background(), tt.host, tt.cmd, tt.opts)
			if got := norm(out.String()); got != tt.wantLog {
				t.Errorf("log:\n%s\nwant:\n%s", got, tt.wantLog)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
			} else {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				if c := ClassOf(err); c != tt.class {
					t.Fatalf("class %q, want %q", c, tt.class)
				}
			}
			if tt.dry && len(tr.ran) > 0 {
				t.Fatalf("dry run ran %v", tr.ran)
			}
		})
	}
}

func TestVerboseShowsDebugLinesAndScrubbedOutput(t *testing.T) {
	tr := &fake{out: "token pw-s3cret here\n"}
	r, out := newRunner(tr, false)
	r.Log.AddSecret("pw-s3cret") // as docker.login does for the password
	r.Log.SetThreshold(log.Debug)
	c := shell.New("docker", "login").Secret(`"pw-s3cret"`).WithEnv("K", `a"b`)
	if _, err := r.Run(context.Background(), "", c, Options{Level: log.Info}); err != nil {
		t.Fatal(err)
	}
	got := norm(out.String())
	want := "  INFO [ID] Running docker login [REDACTED] on localhost\n" +
		" DEBUG [ID] Command: ( export K=\"a\\\"b\" ; docker login [REDACTED] )\n" +
		" DEBUG [ID] \ttoken [REDACTED] here\n" +
		"  INFO [ID] Finished in N seconds with exit status 0 (successful).\n"
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(tr.ran[0], `"pw-s3cret"`) {
		t.Fatalf("executed command lost its secret: %s", tr.ran[0])
	}
}

func TestHostErrorsJoinLikeSSHKit(t *testing.T) {
	errs := HostErrors{
		{Host: "server1", Err: fmt.Errorf("a")},
		{Host: "server2", Err: fmt.Errorf("b")},
	}
	want := "Exceptions on 2 hosts:\nException while executing on host server1: a\nException while executing on host server2: b"
	if errs.Error() != want {
		t.Fatalf("got %q", errs.Error())
	}
}

func TestClassOfFindsKamalClassesThroughHostErrors(t *testing.T) {
	cause := kamalerr.New("Kamal::ConfigurationError", "Secret 'X' not found")
	err := error(HostErrors{{Host: "server1", Err: fmt.Errorf("in pull_on_host: %w", cause)}})
	if got := ClassOf(err); got != "Kamal::ConfigurationError" {
		t.Fatalf("class %q", got)
	}
	if got := err.Error(); got != "Exception while executing on host server1: in pull_on_host: Secret 'X' not found" {
		t.Fatalf("message %q", got)
	}
}

package executor

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestDirectArgv(t *testing.T) {
	for _, tc := range []struct {
		script string
		env    []string
		want   []string
	}{
		{"/usr/bin/env git -C /tmp/x status --porcelain", nil, []string{"/usr/bin/env", "git", "-C", "/tmp/x", "status", "--porcelain"}},
		{"docker  --version", nil, []string{"docker", "--version"}},
		{"docker build --build-arg A=b -t r:5000/app:v1 .", nil, []string{"docker", "build", "--build-arg", "A=b", "-t", "r:5000/app:v1", "."}},
		{"docker --version && docker buildx version", nil, nil},
		{"echo hi", nil, nil},                          // a builtin: the shell's echo differs
		{"cd /tmp", nil, nil},                          // a builtin with no program
		{"A=b docker ps", nil, nil},                    // an assignment
		{"ls $HOME", nil, nil},                         // an expansion
		{"ls *.go", nil, nil},                          // a glob
		{"ls ~", nil, nil},                             // a tilde
		{"echo 'a b'", nil, nil},                       // quotes
		{"ls # note", nil, nil},                        // a comment
		{"ls\nls", nil, nil},                           // two commands
		{"ls > out", nil, nil},                         // a redirection
		{"./hook", nil, nil},                           // a relative path
		{"", nil, nil},                                 // nothing
		{"git status", []string{"PATH=/opt/bin"}, nil}, // another PATH
		{"git status", []string{"A=b"}, []string{"git", "status"}},
	} {
		if got := directArgv(tc.script, tc.env); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("directArgv(%q, %q) = %q, want %q", tc.script, tc.env, got, tc.want)
		}
	}
}

// A command run without a shell sees what it would under one: the
// directory's PWD, the same environment, its exit status, and a program
// that cannot be found reports the shell's 127.
func TestLocalDirectRunLooksLikeTheShells(t *testing.T) {
	dir := t.TempDir()
	real, _ := filepath.EvalSymlinks(dir)
	t.Setenv("PWD", "/somewhere/else")
	env := func(script string) string {
		var out bytes.Buffer
		if status, err := (&Local{}).Run(context.Background(), "", Request{Script: script, Dir: dir, Env: []string{"KAMAL_X=1"}, Stdout: &out}); err != nil || status != 0 {
			t.Fatalf("%s: status %d, err %v", script, status, err)
		}
		var keep []string
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, "PWD=") || strings.HasPrefix(l, "KAMAL_X=") {
				keep = append(keep, l)
			}
		}
		sort.Strings(keep)
		return strings.Join(keep, " ")
	}
	direct, shell := env("/usr/bin/env"), env("/usr/bin/env | cat")
	if direct != shell || (direct != "KAMAL_X=1 PWD="+dir && direct != "KAMAL_X=1 PWD="+real) {
		t.Errorf("without a shell: %q; with one: %q", direct, shell)
	}
	if status, err := (&Local{}).Run(context.Background(), "", Request{Script: "/bin/false"}); err != nil || status != 1 {
		t.Errorf("/bin/false: status %d, err %v", status, err)
	}
	var errOut bytes.Buffer
	status, err := (&Local{}).Run(context.Background(), "", Request{Script: "no-such-program-kamal", Stderr: &errOut})
	if err != nil || status != 127 || !strings.Contains(errOut.String(), "not found") {
		t.Errorf("missing program: status %d, err %v, stderr %q", status, err, errOut.String())
	}
}

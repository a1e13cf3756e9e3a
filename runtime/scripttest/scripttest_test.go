package scripttest

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"
)

// run runs the harness on testdata/app at version v1 (no git needed).
func run(t *testing.T, files []string, sel string) (string, Summary, error) {
	t.Helper()
	dir, err := filepath.Abs("testdata/app")
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Dir: dir, Out: &bytes.Buffer{}, Scripts: []string{filepath.Join(dir, ".kamal", "scripts", "build.star")},
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml", Version: "v1"}}
	for _, f := range files {
		o.Files = append(o.Files, filepath.Join(dir, f))
	}
	if sel != "" {
		o.Run = regexp.MustCompile(sel)
	}
	sum, err := Run(context.Background(), o)
	return o.Out.(*bytes.Buffer).String(), sum, err
}

func TestTestsOfTheAppDirectoryPass(t *testing.T) {
	out, sum, err := run(t, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "--- PASS: test_push_builds_locally\n--- PASS: test_login_is_redacted\n--- PASS: test_answer_on_one_host\n--- PASS: test_assert_inside_on\n4 passed, 0 failed\n"
	if out != want || sum != (Summary{Passed: 4}) {
		t.Errorf("got %+v\n%s\nwant\n%s", sum, out, want)
	}
}

func TestFailuresNameTheirLineAndTheSummaryCountsThem(t *testing.T) {
	out, sum, err := run(t, []string{"fail_test.star"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := `--- FAIL: test_wrong_expectation
    fail_test.star:3: [("server1", "/usr/bin/env df --output=avail /var/lib/docker"), ("server1", "docker pull registry.example:5000/app:v1")] != []
--- FAIL: test_two_failures
    fail_test.star:6: 1 != 2
    fail_test.star:7: second
--- FAIL: test_uncaught
    fail_test.star:11: server3: no space left for the image
--- PASS: test_passes
1 passed, 3 failed
`
	if out != want || sum != (Summary{Passed: 1, Failed: 3}) {
		t.Errorf("got %+v\n%s\nwant\n%s", sum, out, want)
	}
}

func TestRunSelectsByName(t *testing.T) {
	out, sum, err := run(t, []string{"fail_test.star", ".kamal/scripts/pass_test.star"}, "passes|inside_on")
	if err != nil {
		t.Fatal(err)
	}
	want := "--- PASS: test_passes\n--- PASS: test_assert_inside_on\n2 passed, 0 failed\n"
	if out != want || sum != (Summary{Passed: 2}) {
		t.Errorf("got %+v\n%s\nwant\n%s", sum, out, want)
	}
}

func TestAFileThatDoesNotLoadIsAnError(t *testing.T) {
	_, _, err := run(t, []string{"missing_test.star"}, "")
	if err == nil || !strings.Contains(err.Error(), "missing_test.star") {
		t.Errorf("err = %v, want one naming the missing file", err)
	}
}

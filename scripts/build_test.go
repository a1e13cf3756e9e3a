package scripts_test

// The stock script's own tests, written as any user's are (kamal build
// test): testdata/kamal15, kamal19 and kamal212 are apps on two servers
// whose .kamal/scripts/build_test.star pin each generation's push and pull
// against the fake world. The examples' test files run here too.

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/runstate"
	"github.com/kamal-go/kamal/runtime/scripttest"
)

func runAppTests(t *testing.T, dir string) {
	t.Helper()
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	scripts, _ := filepath.Glob(filepath.Join(dir, ".kamal", "scripts", "build.star"))
	sum, err := scripttest.Run(context.Background(), scripttest.Options{
		Dir: dir, Out: &out, Scripts: scripts,
		Flags: runstate.Flags{ConfigFile: "config/deploy.yml"},
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if sum.Failed > 0 || sum.Passed == 0 {
		t.Errorf("%d passed, %d failed:\n%s", sum.Passed, sum.Failed, out.String())
	}
	if !strings.HasSuffix(out.String(), " passed, 0 failed\n") {
		t.Errorf("no summary line:\n%s", out.String())
	}
}

func TestStockFlowsOnTwoHosts(t *testing.T) {
	for _, app := range []string{"kamal15", "kamal19", "kamal212"} {
		t.Run(app, func(t *testing.T) { runAppTests(t, filepath.Join("testdata", app)) })
	}
}

func TestExamplesTests(t *testing.T) {
	// The examples' configs point at the test rig; their tests never
	// connect, but the config wants a key path.
	t.Setenv("RIG_SSH_KEY", "/nonexistent/rig-key")
	files, err := filepath.Glob("../examples/*/.kamal/scripts/*_test.star")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example has tests (%v)", err)
	}
	for _, f := range files {
		app := filepath.Dir(filepath.Dir(filepath.Dir(f)))
		t.Run(filepath.Base(app), func(t *testing.T) { runAppTests(t, app) })
	}
}

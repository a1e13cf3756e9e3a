package main

// The command line pinned by testscript scenarios (testdata/script/*.txtar):
// help, usage errors, the dry-run output of each command, kamal secrets
// with a stand-in 1Password CLI. `kamal` in a scenario is this test binary
// running Main; -update rewrites the scenarios' golden files.

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kamal-go/kamal/internal/testenv"
)

var updateScripts = flag.Bool("update", false, "rewrite the testscript scenarios' expected files")

// TestMain runs the tests with their own TMPDIR, removed afterwards: the
// kamal binary the REPL tests build and the clone directories of the
// flows go with it.
func TestMain(m *testing.M) {
	testscript.Main(privateTemp{m}, map[string]func(){"kamal": main})
}

type privateTemp struct{ m *testing.M }

func (p privateTemp) Run() int { return testenv.Run(p.m) }

func TestScripts(t *testing.T) {
	standins, err := filepath.Abs("../../tests/standins")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/script",
		UpdateScripts: *updateScripts,
		Setup: func(e *testscript.Env) error {
			// testscript's environment is minimal (no USER, VERSION,
			// KAMAL_LOCK): local commands log "on localhost".
			e.Setenv("STANDINS", standins)
			e.Setenv("HOME", e.WorkDir)
			return nil
		},
	})
}

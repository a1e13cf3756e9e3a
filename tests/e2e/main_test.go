package e2e

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the reference transcripts")

var (
	repoRoot string // the module root (directory of go.mod)
	// rig is never nil: a zero Rig when the rig is not up, so that a test
	// reading its fields in the arguments of its first helper reaches
	// needRig (and skips) instead of panicking the whole package.
	rig *Rig
	// skipReason, when set, is why every rig test skips (outside CI only).
	skipReason string
	kamalBin   string // the binary under test, built once by TestMain
	buildErr   error  // why it could not be built; every rig test fails with it
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	var err error
	if repoRoot, err = findRepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	path := os.Getenv("KAMAL_RIG_ENV")
	if path == "" {
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "e2e: FAIL: KAMAL_RIG_ENV is not set but CI=true: the end-to-end tests must run against the rig (tests/run brings it up and sets KAMAL_RIG_ENV)")
			return 1
		}
		skipReason = "rig not up: run tests/rig/up, then set KAMAL_RIG_ENV=" + filepath.Join(repoRoot, "tests/rig/.state/env")
		rig = &Rig{}
		return m.Run()
	}
	if rig, err = loadRig(path); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "kamal-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	kamalBin, buildErr = buildKamal(tmp)
	// Kamal 1's flow logs in nowhere: its servers must already be logged in to
	// the registry, as they were when the reference transcripts were recorded.
	if err := loginServers(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	code := m.Run()
	stopNetnsRig()     // tests/rig/netns, if a test started it
	stopManyHostsRig() // tests/bench/many-hosts, likewise
	// No secret the suite used may appear in anything kamal printed.
	if leaks := secretsPrinted(); leaks != "" {
		fmt.Fprint(os.Stderr, "e2e: FAIL: secrets in kamal's output:\n"+leaks)
		code = 1
	}
	return code
}

// needRig skips the test when the rig is not up and fails it when the binary
// did not build, so `go test ./...` on a laptop without the rig stays green.
func needRig(t *testing.T) {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	if buildErr != nil {
		t.Fatalf("the kamal binary did not build: %v", buildErr)
	}
}

func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's directory")
		}
		dir = parent
	}
}

func buildKamal(dir string) (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(dir, "kamal")
	cmd := exec.Command(goBin, "build", "-o", bin, "./cmd/kamal")
	cmd.Dir = repoRoot
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kamal: %v\n%s", err, strings.TrimSpace(out.String()))
	}
	return bin, nil
}

func loginServers() error {
	for _, host := range rig.Hosts {
		cmd := rig.sshCommand(host, "docker login "+rig.Registry+" -u "+rig.User+" --password-stdin")
		cmd.Stdin = strings.NewReader(rig.Password)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("docker login on %s: %v\n%s", host, err, out)
		}
	}
	return nil
}

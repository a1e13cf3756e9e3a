// Package testenv holds what test binaries share about their environment.
package testenv

import (
	"fmt"
	"os"
)

// PrivateTempDir points TMPDIR at a new directory for the rest of the test
// binary and returns the function that removes it with everything in it.
// Code under test that writes to os.TempDir() (Kamal's clone directory,
// kamal-clones/APP-HASH, which kamal-go keeps there as Kamal does; a
// binary a test builds) then leaves nothing behind. Call it from TestMain,
// before any test runs; it is not safe to call concurrently with them.
func PrivateTempDir() (cleanup func()) {
	dir, err := os.MkdirTemp("", "kamal-go-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return func() {}
	}
	// As open as the system's TMPDIR: a test running kamal as another user
	// (nobody) must reach its directories below.
	os.Chmod(dir, 0o755)
	old, had := os.LookupEnv("TMPDIR")
	os.Setenv("TMPDIR", dir)
	return func() {
		if had {
			os.Setenv("TMPDIR", old)
		} else {
			os.Unsetenv("TMPDIR")
		}
		os.RemoveAll(dir)
	}
}

// Run runs m's tests with PrivateTempDir and returns their exit code:
// TestMain is os.Exit(testenv.Run(m)).
func Run(m interface{ Run() int }) int {
	cleanup := PrivateTempDir()
	defer cleanup()
	return m.Run()
}

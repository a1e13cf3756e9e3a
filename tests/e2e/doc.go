// Package e2e runs the kamal binary end to end against the loopback test rig
// (tests/rig/up: a registry, three OpenSSH servers and the local dockerd).
//
// The tests read the rig's env file from KAMAL_RIG_ENV; without it they skip
// (or fail when CI=true). tests/run brings the rig up and runs them:
//
//	tests/rig/up && KAMAL_RIG_ENV=$PWD/tests/rig/.state/env go test -count=1 ./tests/e2e
//
// Goldens (testdata/*.golden) are real Kamal transcripts (testdata/reference)
// put through the same normaliser as the binary's output.
package e2e

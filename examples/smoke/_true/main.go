// Command true exits 0: the smoke test's probe, built static so that it runs
// in a FROM scratch image:
//
//	(cd _true && CGO_ENABLED=0 go build -o ../bin/true main.go)
//
// Built with -ldflags "-X main.failOn=server2" it exits 1 when the container's
// KAMAL_HOST is server2, to show a failing host (the rig's servers share one
// dockerd, so the image itself cannot differ between them).
package main

import "os"

var failOn string

func main() {
	if failOn != "" && os.Getenv("KAMAL_HOST") == failOn {
		os.Stderr.WriteString("refusing to start on " + failOn + "\n")
		os.Exit(1)
	}
}

package interp

import (
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/kamalerr"
)

// docker reaches a remote builder through OpenSSH: create checks that way
// after its own SSH check, with the URL's user, host and port in batch
// mode, and a failure stops the run before any docker context exists.
func TestRemoteBuilderCreateChecksOpenSSHFirstAndStopsWhenItFails(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://app@server1:2222\n")
	f := newFake(rule{Host: "", Match: "BatchMode=yes", Status: 255, Stderr: "app@server1: Permission denied (publickey).\n"})
	got, err := runFlow(t, dir, "create", false, f)
	if err == nil {
		t.Fatalf("create succeeded:\n%s", got)
	}
	want := "docker reaches the remote builder ssh://app@server1:2222 through OpenSSH, which cannot connect (ssh -o BatchMode=yes -o ConnectTimeout=30 -T -l app -p 2222 -- server1 true: app@server1: Permission denied (publickey).): give OpenSSH the key with ssh-agent (ssh-add) or a Host entry with User, Port and IdentityFile in ~/.ssh/config"
	if err.Error() != want || kamalerr.ClassOf(err) != "Kamal::Cli::Build::BuildError" {
		t.Errorf("err %q (class %q)\nwant %q", err, kamalerr.ClassOf(err), want)
	}
	local := f.RanOn("")
	var checked bool
	for _, s := range local {
		if strings.Contains(s, "docker context create") || strings.Contains(s, "buildx create") {
			t.Errorf("created something after the failed check: %q", s)
		}
		checked = checked || strings.HasPrefix(s, "ssh -o BatchMode=yes")
	}
	if !checked {
		t.Errorf("no OpenSSH check ran locally: %q", local)
	}
	if strings.Contains(got, "BatchMode") {
		t.Errorf("the check was logged:\n%s", got)
	}
}

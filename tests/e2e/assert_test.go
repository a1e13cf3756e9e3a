package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var ansiRe = regexp.MustCompile("\x1b\\[[0-9;]*m")

// errorReport is Kamal's top-level error report: from the last line starting
// with "  ERROR (" to the end of the output, without ANSI colours (Kamal
// always prints it red). stdout is searched first, then stderr.
func errorReport(stdout, stderr string) string {
	for _, out := range []string{stdout, stderr} {
		out = ansiRe.ReplaceAllString(out, "")
		if i := strings.LastIndex("\n"+out, "\n  ERROR ("); i >= 0 {
			return strings.TrimRight(out[i:], "\n")
		}
	}
	return ""
}

// assertFailed checks exit status 1 and an error report of errClass whose
// message contains every one of msgParts.
func assertFailed(t *testing.T, stdout, stderr string, exit int, errClass string, msgParts ...string) {
	t.Helper()
	if exit != 1 {
		t.Errorf("exit status %d, want 1", exit)
	}
	report := errorReport(stdout, stderr)
	if prefix := "  ERROR (" + errClass + "): "; !strings.HasPrefix(report, prefix) {
		t.Errorf("error report does not start with %q:\n%s", prefix, report)
	}
	for _, p := range msgParts {
		if !strings.Contains(report, p) {
			t.Errorf("error report lacks %q:\n%s", p, report)
		}
	}
}

func assertContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s lacks %q:\n%s", what, p, s)
		}
	}
}

func assertNotContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(s, p) {
			t.Errorf("%s contains %q:\n%s", what, p, s)
		}
	}
}

// assertNotPushed checks that the registry has no tag version.
func assertNotPushed(t *testing.T, version string) {
	t.Helper()
	if hasTag(t, "app", version) {
		t.Errorf("the registry has app:%s, want nothing pushed", version)
	}
}

// assertPushed checks that the registry has version and latest, both naming
// the same manifest (this test's push was the last to move latest).
func assertPushed(t *testing.T, version string) {
	t.Helper()
	d := registryDigest(t, "app", version)
	if d == "" {
		t.Fatalf("the registry has no app:%s; tags: %v", version, registryTags(t, "app"))
	}
	if latest := registryDigest(t, "app", "latest"); latest != d {
		t.Errorf("app:latest is %q, want app:%s's manifest %s", latest, version, d)
	}
}

// assertPulledOn checks the audit line of a pull of version on each host.
func assertPulledOn(t *testing.T, version string, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		if log := auditLog(t, h); !strings.Contains(log, pulledLine(version)) {
			t.Errorf("%s's .kamal/app-audit.log lacks %q:\n%s", h, pulledLine(version), log)
		}
	}
}

func assertNotPulledOn(t *testing.T, version string, hosts ...string) {
	t.Helper()
	for _, h := range hosts {
		if log := auditLog(t, h); strings.Contains(log, version) {
			t.Errorf("%s's .kamal/app-audit.log mentions %s, want no pull recorded:\n%s", h, version, log)
		}
	}
}

// assertNoLock checks that no deploy lock is left on any server.
func assertNoLock(t *testing.T) {
	t.Helper()
	for _, h := range rig.Hosts {
		for _, rel := range []string{lockDir, ".kamal/lock-app"} {
			if exists(serverFile(h, rel)) {
				t.Errorf("%s still has %s", h, rel)
			}
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

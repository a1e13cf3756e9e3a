package interp

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Redaction is where a secret is used (sensitive words of a command), and
// scrubbing of output only touches values that cannot be ordinary text:
// secrets whose values are "secret", a host of the config and
// "production" leave hosts, option names and hook output as they are; a
// long token echoed by a hook is scrubbed.
func TestRedactionNeverChangesOrdinaryText(t *testing.T) {
	const token = "ghp_Zx81kQ0pLmN4vB7cR2tY9wE5uI3oA6sD"
	dir := app(t, "kamal2")
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "config/deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	write("config/deploy.yml", strings.Replace(string(cfg), "  driver: docker\n",
		"  driver: docker\n  secrets: [a, HOST, STAGE, TOKEN]\n", 1))
	write(".kamal/secrets", "KAMAL_REGISTRY_PASSWORD=s3cret-pw\na=secret\nHOST=server1\nSTAGE=production\nTOKEN="+token+"\n")
	for _, args := range [][]string{{"add", "-A"}, {"commit", "-qm", "secrets"}} {
		c := exec.Command("git", args...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	echo := rule{Match: "pre-connect", Stdout: "a=secret host=server1 stage=production token=" + token + "\n"}

	head := rule{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"}

	push, _, err := run(t, dir, "push", true, echo, head)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, push)
	}
	pull, _, err := run(t, dir, "pull", true, echo, head)
	if err != nil {
		t.Fatalf("pull: %v\n%s", err, pull)
	}
	out := push + pull
	for _, want := range []string{
		`--secret id="a" --secret id="HOST" --secret id="STAGE" --secret id="TOKEN"`,
		"Running docker pull 127.0.0.1:5556/app:VERSION on server1",
		"\ta=secret host=server1 stage=production token=[REDACTED]",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	for _, bad := range []string{token, "on [REDACTED]", "--[REDACTED]"} {
		if strings.Contains(out, bad) {
			t.Errorf("printed %q:\n%s", bad, out)
		}
	}
}

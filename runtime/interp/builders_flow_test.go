package interp

import (
	"fmt"
	"github.com/kamal-go/kamal/runtime/sshkit"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kamal-go/kamal/runtime/fakeworld"
)

// Flows of issue 3 (builders, registries, clone, mirrors) against fake
// hosts: each pins the log line by line (testdata/builders-*.golden) and
// checks what ran where.

// fakeForwards is the fake world that also forwards ports (recording
// them).
type fakeForwards = fakeworld.World

// localEnvs lists "WORD WORD: ENV" for every local command run with a
// process environment, except hooks (which get their KAMAL_*).
func localEnvs(f *fakeForwards) []string {
	var out []string
	for _, c := range f.Ran() {
		if c.Host == "" && len(c.Env) > 0 && !strings.Contains(c.Script, ".kamal/hooks/") {
			w := strings.Fields(c.Script)
			out = append(out, w[0]+" "+w[1]+": "+strings.Join(c.Env, " "))
		}
	}
	return out
}

// appConfig is testdata/kamal2 (or kamal1) with config/deploy.yml
// replaced, committed.
func appConfig(t *testing.T, base, deploy string) string {
	t.Helper()
	dir := app(t, base)
	if err := os.WriteFile(filepath.Join(dir, "config", "deploy.yml"), []byte(deploy), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "commit", "-qam", "config")
	return dir
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	c := exec.Command("git", args...)
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// runFlow is run() with a forwarding fake; verbose adds -v.
func runFlow(t *testing.T, dir, sub string, verbose bool, f *fakeForwards) (string, error) {
	t.Helper()
	got, err := runWith(t, dir, sub, verbose, f)
	if strings.Contains(got, "s3cret-pw") {
		t.Fatalf("secret in output:\n%s", got)
	}
	return got, err
}

func newFake(rules ...rule) *fakeForwards { return newWorld(rules...) }

func hasScript(list []string, part string) bool {
	for _, s := range list {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

const v2Base = `service: app
image: app
servers:
  - server1
  - server2
  - server3
ssh:
  user: deploy
x-kamal-go:
  sshkit:
    max_concurrent_hosts: 1
`

const v2Registry = `registry:
  server: 127.0.0.1:5556
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
`

const localRegistry = `registry:
  server: localhost:5000
`

func cloneRules(t *testing.T, dir string) []rule {
	return []rule{
		{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"},
		{Match: "--recurse-submodules", Status: 128, Stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"},
	}
}

var noMirror = rule{Match: "RegistryConfig.Mirrors", Status: 1, Stderr: "template: :1:2: executing \"\" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range\n"}

func TestRemoteBuilderCreateChecksTheHostOverSSHWithTheURLsUser(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://root@server1:2222\n")
	f := newFake()
	got, err := runFlow(t, dir, "create", true, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-remote-create", got)
	// The check connects with the URL's user and port, not ssh.user.
	if r := f.RanOn("ssh://root@server1:2222"); len(r) != 1 || r[0] != "/usr/bin/env true" {
		t.Errorf("ran on the builder host: %q", r)
	}
}

func TestRemoteBuilderPushRecreatesAMissingBuilderAndBuildsWithoutAClientToken(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://root@server1\n  secrets:\n    - KAMAL_REGISTRY_PASSWORD\n")
	rules := append(cloneRules(t, dir),
		rule{Match: "docker buildx inspect", Status: 1, Stderr: "ERROR: no builder \"kamal-remote-ssh---root-server1\" found\n"},
		rule{Match: "docker context rm", Status: 1, Stderr: "context not found\n"},
	)
	f := newFake(rules...)
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-remote-push", got)
	local := f.RanOn("")
	if hasScript(local, "docker login") {
		t.Error("a remote builder must not log in locally")
	}
	if !hasScript(f.RanOn("ssh://root@server1"), "true") {
		t.Error("re-creation did not check the builder host")
	}
	// The build secret reaches buildx through its process environment only.
	if fmt.Sprint(localEnvs(f)) != "[( export: KAMAL_REGISTRY_PASSWORD=s3cret-pw]" { // the build, in its BUILDKIT_NO_CLIENT_TOKEN wrapper
		t.Errorf("local process environments %q, want the secret on the build only", localEnvs(f))
	}
	for _, s := range local {
		if strings.Contains(s, "s3cret-pw") {
			t.Errorf("secret on a command line: %s", s)
		}
	}
}

func TestLocalRegistryPullForwardsThePortToEverySelectedHost(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+localRegistry+"builder:\n  arch: amd64\n")
	f := newFake(noMirror)
	got, err := runFlow(t, dir, "pull", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-local-registry-pull", got)
	want := []string{"server1 127.0.0.1:5000->localhost:5000", "server2 127.0.0.1:5000->localhost:5000", "server3 127.0.0.1:5000->localhost:5000"}
	forwards, closed := f.Forwards()
	if fmt.Sprint(sortedCopy(forwards)) != fmt.Sprint(want) {
		t.Errorf("forwards %q, want %q", forwards, want)
	}
	if closed != 3 {
		t.Errorf("%d forwards closed, want 3", closed)
	}
	for _, h := range []string{"server1", "server2", "server3"} {
		if hasScript(f.RanOn(h), "docker login") {
			t.Errorf("%s logged in to a local registry", h)
		}
	}
}

func TestLocalRegistryPullFailsWhenAForwardIsRefused(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+localRegistry+"builder:\n  arch: amd64\n")
	f := newFake(noMirror)
	f.Refuse = "server2"
	got, err := runFlow(t, dir, "pull", false, f)
	if err == nil || err.Error() != "Failed to establish port forward on server2" {
		t.Fatalf("err = %v", err)
	}
	golden(t, "builders-local-registry-refused", got)
	if hasScript(f.RanOn("server1"), "docker pull") {
		t.Error("pulled although a forward failed")
	}
	if forwards, closed := f.Forwards(); closed != len(forwards) {
		t.Errorf("%d of %d forwards closed", closed, len(forwards))
	}
}

func TestLocalRegistryPushWithARemoteBuilderForwardsToTheBuilderHost(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+localRegistry+"builder:\n  arch: arm64\n  remote: ssh://builder@bk.example.com:2122\n")
	f := newFake(cloneRules(t, dir)...)
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-local-registry-remote-push", got)
	if forwards, want := fmt.Sprint(f.Forwards()), "[ssh://builder@bk.example.com:2122 127.0.0.1:5000->localhost:5000] 1"; forwards != want {
		t.Errorf("forwards and closed %s, want %s", forwards, want)
	}
}

func TestPullSeedsEachMirrorFromOneHostFirst(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: amd64\n  driver: docker\n")
	f := newFake(
		rule{Host: "server1", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-a.example.com/\n"},
		rule{Host: "server2", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-a.example.com/\n"},
		rule{Host: "server3", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-b.example.com/\n"},
	)
	got, err := runFlow(t, dir, "pull", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-mirror-pull", got)
	// The seeds pull before any other host does.
	var order []string
	for _, c := range f.Ran() {
		if strings.HasPrefix(c.Script, "docker pull") {
			order = append(order, c.Host)
		}
	}
	if fmt.Sprint(order) != "[server1 server3 server2]" {
		t.Errorf("pull order %v, want seeds server1 and server3 first", order)
	}
}

func TestCloneThatCannotBeResetIsDeletedAndClonedAgain(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: amd64\n  driver: docker\n")
	rev := revision(t, dir)
	f := newFake(
		rule{Match: "rev-parse HEAD", Stdout: rev + "\n"},
		rule{Match: "fetch origin", Status: 1, Stderr: "fatal: 'origin' does not appear to be a git repository\n"},
	)
	// The clone dir is taken and fetching into it fails: Kamal deletes it
	// and clones again; the fresh clone here fails as well, and that
	// failure is the raw command's.
	f.Answer(rule{Match: "--recurse-submodules", Status: 128, Stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"})
	got, err := runFlow(t, dir, "push", false, f)
	if err == nil || sshkit.ClassOf(err) != "SSHKit::Command::Failed" {
		t.Fatalf("err = %v, want the second clone's SSHKit::Command::Failed", err)
	}
	golden(t, "builders-clone-retry-fails", got)

	f2 := newFake(rule{Match: "rev-parse HEAD", Stdout: rev + "\n"}, rule{Match: "status --porcelain", Stdout: " M Dockerfile\n"})
	got, err = runFlow(t, dir, "push", false, f2)
	if err == nil || sshkit.ClassOf(err) != "Kamal::Cli::Build::BuildError" || !strings.Contains(err.Error(), "is dirty, M Dockerfile") {
		t.Fatalf("err = %v", err)
	}
	golden(t, "builders-clone-dirty-twice", got)
}

func TestKamal1BuilderWhoseContextHostsChangedIsRecreated(t *testing.T) {
	const cfg = `service: app
image: app
servers:
  - server1
registry:
  server: registry:4443
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  remote:
    arch: arm64
    host: ssh://root@server1
`
	dir := appConfig(t, "kamal1", cfg)
	f := newFake(rule{Match: "docker context inspect", Stdout: "ssh://root@old-builder\n"})
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-kamal1-context-hosts", got)
}

func TestKamal1MissingMultiarchBuilderIsCreated(t *testing.T) {
	const cfg = `service: app
image: app
servers:
  - server1
registry:
  server: registry:4443
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  multiarch: true
`
	dir := appConfig(t, "kamal1", cfg)
	f := newFake(rule{Match: "docker buildx inspect", Status: 1, Stderr: "ERROR: no builder \"kamal-app-multiarch\" found\n"})
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-kamal1-missing-builder", got)
}

func TestDevWarnsAboutUncommittedAndUntrackedFilesDockerWouldSend(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: amd64\n  driver: docker\n")
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("new\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.env"), []byte("X=1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("*.env\n"), 0o644)
	f := newFake()
	got, err := runFlow(t, dir, "dev", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-dev", got)
}

func sortedCopy(l []string) []string {
	c := append([]string(nil), l...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if c[j] < c[i] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

// Kamal exports the builder's secrets before it inspects the builder: a
// missing one fails the push before any builder or context is made.
func TestMissingBuilderSecretFailsBeforeTheBuilderIsInspectedOrCreated(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://root@server1\n  secrets:\n    - NOT_IN_ANY_FILE\n")
	rules := append(cloneRules(t, dir),
		rule{Match: "docker buildx inspect", Status: 1, Stderr: "ERROR: no builder \"kamal-remote-ssh---root-server1\" found\n"},
	)
	f := newFake(rules...)
	got, err := runFlow(t, dir, "push", false, f)
	if err == nil || !strings.Contains(err.Error(), "Secret 'NOT_IN_ANY_FILE' not found") {
		t.Fatalf("push: err = %v, want the missing secret\n%s", err, got)
	}
	for _, part := range []string{"docker buildx inspect", "docker buildx create", "docker context create", "docker buildx build"} {
		if hasScript(f.RanOn(""), part) {
			t.Errorf("%q ran before the missing secret was reported:\n%s", part, got)
		}
	}
}

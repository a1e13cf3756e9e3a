package interp

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kamal-go/kamal/runtime/sshkit"

	"github.com/kamal-go/kamal/runtime/executor"
)

// Flows of issue 3 (builders, registries, clone, mirrors) against fake
// hosts: each pins the log line by line (testdata/builders-*.golden) and
// checks what ran where.

// fakeForwards is fakeHosts that also forwards ports (recording them).
type fakeForwards struct {
	*fakeHosts
	mu       sync.Mutex
	forwards []string // "host remote->local", in request order per host
	closed   int
	refuse   string // host whose forward is refused
	envs     []string
}

func (f *fakeForwards) Forward(_ context.Context, host, remote, local string) (io.Closer, error) {
	if host == f.refuse {
		return nil, fmt.Errorf("ssh %s: %w: listening on %s: denied", host, executor.ErrForwardRefused, remote)
	}
	f.mu.Lock()
	f.forwards = append(f.forwards, host+" "+remote+"->"+local)
	f.mu.Unlock()
	return closerFunc(func() error {
		f.mu.Lock()
		f.closed++
		f.mu.Unlock()
		return nil
	}), nil
}

// Run records the process environment of local commands, then runs as
// fakeHosts.
func (f *fakeForwards) Run(ctx context.Context, host string, req executor.Request) (int, error) {
	if host == "" && len(req.Env) > 0 {
		f.mu.Lock()
		if !strings.Contains(req.Script, ".kamal/hooks/") { // hooks get their KAMAL_* (and pre-connect the secrets)
			f.envs = append(f.envs, strings.Fields(req.Script)[0]+" "+strings.Fields(req.Script)[1]+": "+strings.Join(req.Env, " "))
		}
		f.mu.Unlock()
	}
	return f.fakeHosts.Run(ctx, host, req)
}

type closerFunc func() error

func (c closerFunc) Close() error { return c() }

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

func newFake(rules ...rule) *fakeForwards {
	return &fakeForwards{fakeHosts: &fakeHosts{rules: rules}}
}

// ranOn lists the scripts run on host ("" for local) in order.
func (f *fakeForwards) ranOn(host string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.ran {
		if h, s, _ := strings.Cut(r, "|"); h == host {
			out = append(out, s)
		}
	}
	return out
}

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
		{match: "rev-parse HEAD", stdout: revision(t, dir) + "\n"},
		{match: "--recurse-submodules", status: 128, stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"},
	}
}

var noMirror = rule{match: "RegistryConfig.Mirrors", status: 1, stderr: "template: :1:2: executing \"\" at <index .RegistryConfig.Mirrors 0>: error calling index: reflect: slice index out of range\n"}

func TestRemoteBuilderCreateChecksTheHostOverSSHWithTheURLsUser(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://root@server1:2222\n")
	f := newFake()
	got, err := runFlow(t, dir, "create", true, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-remote-create", got)
	// The check connects with the URL's user and port, not ssh.user.
	if r := f.ranOn("ssh://root@server1:2222"); len(r) != 1 || r[0] != "/usr/bin/env true" {
		t.Errorf("ran on the builder host: %q", r)
	}
}

func TestRemoteBuilderPushRecreatesAMissingBuilderAndBuildsWithoutAClientToken(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: arm64\n  remote: ssh://root@server1\n  secrets:\n    - KAMAL_REGISTRY_PASSWORD\n")
	rules := append(cloneRules(t, dir),
		rule{match: "docker buildx inspect", status: 1, stderr: "ERROR: no builder \"kamal-remote-ssh---root-server1\" found\n"},
		rule{match: "docker context rm", status: 1, stderr: "context not found\n"},
	)
	f := newFake(rules...)
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-remote-push", got)
	local := f.ranOn("")
	if hasScript(local, "docker login") {
		t.Error("a remote builder must not log in locally")
	}
	if !hasScript(f.ranOn("ssh://root@server1"), "true") {
		t.Error("re-creation did not check the builder host")
	}
	// The build secret reaches buildx through its process environment only.
	if fmt.Sprint(f.envs) != "[( export: KAMAL_REGISTRY_PASSWORD=s3cret-pw]" { // the build, in its BUILDKIT_NO_CLIENT_TOKEN wrapper
		t.Errorf("local process environments %q, want the secret on the build only", f.envs)
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
	if fmt.Sprint(sortedCopy(f.forwards)) != fmt.Sprint(want) {
		t.Errorf("forwards %q, want %q", f.forwards, want)
	}
	if f.closed != 3 {
		t.Errorf("%d forwards closed, want 3", f.closed)
	}
	for _, h := range []string{"server1", "server2", "server3"} {
		if hasScript(f.ranOn(h), "docker login") {
			t.Errorf("%s logged in to a local registry", h)
		}
	}
}

func TestLocalRegistryPullFailsWhenAForwardIsRefused(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+localRegistry+"builder:\n  arch: amd64\n")
	f := newFake(noMirror)
	f.refuse = "server2"
	got, err := runFlow(t, dir, "pull", false, f)
	if err == nil || err.Error() != "Failed to establish port forward on server2" {
		t.Fatalf("err = %v", err)
	}
	golden(t, "builders-local-registry-refused", got)
	if hasScript(f.ranOn("server1"), "docker pull") {
		t.Error("pulled although a forward failed")
	}
	if f.closed != len(f.forwards) {
		t.Errorf("%d of %d forwards closed", f.closed, len(f.forwards))
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
	if want := []string{"ssh://builder@bk.example.com:2122 127.0.0.1:5000->localhost:5000"}; fmt.Sprint(f.forwards) != fmt.Sprint(want) {
		t.Errorf("forwards %q, want %q", f.forwards, want)
	}
}

func TestPullSeedsEachMirrorFromOneHostFirst(t *testing.T) {
	dir := appConfig(t, "kamal2", v2Base+v2Registry+"builder:\n  arch: amd64\n  driver: docker\n")
	f := newFake(
		rule{host: "server1", match: "RegistryConfig.Mirrors", stdout: "https://mirror-a.example.com/\n"},
		rule{host: "server2", match: "RegistryConfig.Mirrors", stdout: "https://mirror-a.example.com/\n"},
		rule{host: "server3", match: "RegistryConfig.Mirrors", stdout: "https://mirror-b.example.com/\n"},
	)
	got, err := runFlow(t, dir, "pull", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "builders-mirror-pull", got)
	// The seeds pull before any other host does.
	var order []string
	for _, r := range f.ran {
		if h, s, _ := strings.Cut(r, "|"); strings.HasPrefix(s, "docker pull") {
			order = append(order, h)
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
		rule{match: "rev-parse HEAD", stdout: rev + "\n"},
		rule{match: "fetch origin", status: 1, stderr: "fatal: 'origin' does not appear to be a git repository\n"},
	)
	// The clone dir is taken and fetching into it fails: Kamal deletes it
	// and clones again; the fresh clone here fails as well, and that
	// failure is the raw command's.
	f.rules = append([]rule{{match: "--recurse-submodules", status: 128, stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"}}, f.rules...)
	got, err := runFlow(t, dir, "push", false, f)
	if err == nil || sshkit.ClassOf(err) != "SSHKit::Command::Failed" {
		t.Fatalf("err = %v, want the second clone's SSHKit::Command::Failed", err)
	}
	golden(t, "builders-clone-retry-fails", got)

	f2 := newFake(rule{match: "rev-parse HEAD", stdout: rev + "\n"}, rule{match: "status --porcelain", stdout: " M Dockerfile\n"})
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
	f := newFake(rule{match: "docker context inspect", stdout: "ssh://root@old-builder\n"})
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
	f := newFake(rule{match: "docker buildx inspect", status: 1, stderr: "ERROR: no builder \"kamal-app-multiarch\" found\n"})
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
		rule{match: "docker buildx inspect", status: 1, stderr: "ERROR: no builder \"kamal-remote-ssh---root-server1\" found\n"},
	)
	f := newFake(rules...)
	got, err := runFlow(t, dir, "push", false, f)
	if err == nil || !strings.Contains(err.Error(), "Secret 'NOT_IN_ANY_FILE' not found") {
		t.Fatalf("push: err = %v, want the missing secret\n%s", err, got)
	}
	for _, part := range []string{"docker buildx inspect", "docker buildx create", "docker context create", "docker buildx build"} {
		if hasScript(f.ranOn(""), part) {
			t.Errorf("%q ran before the missing secret was reported:\n%s", part, got)
		}
	}
}

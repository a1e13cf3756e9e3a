package interp

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// Flows of the Kamal 1.9 generation (issue 9): an app whose Gemfile.lock
// pins a Kamal 1.6–1.9 release, against fake hosts.

// pin writes a Gemfile.lock locking kamal at version into dir and commits
// it, as an app that runs Kamal through Bundler has.
func pin(t *testing.T, dir, version string) {
	t.Helper()
	lock := "GEM\n  remote: https://rubygems.org/\n  specs:\n    kamal (" + version + ")\n      sshkit (>= 1.23.0, < 2.0)\n    sshkit (1.23.0)\n\n" +
		"PLATFORMS\n  ruby\n\nDEPENDENCIES\n  kamal (= " + version + ")\n\nBUNDLED WITH\n   2.5.22\n"
	if err := os.WriteFile(filepath.Join(dir, "Gemfile.lock"), []byte(lock), 0o644); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "Gemfile.lock")
	gitIn(t, dir, "commit", "-qm", "pin kamal "+version)
}

func TestDetailsVerboseSaysWhichGenerationAndWhy(t *testing.T) {
	tests := []struct {
		name, app, pin, want string
	}{
		{"pinned_1.8.3", "kamal1", "1.8.3", " DEBUG Kamal 1.9 generation (follows Kamal 1.9.2): Gemfile.lock pins kamal (1.8.3)\n"},
		{"pinned_1.5.2", "kamal1", "1.5.2", " DEBUG Kamal 1.5 generation (follows Kamal 1.5.2): Gemfile.lock pins kamal (1.5.2)\n"},
		{"unpinned_kamal1", "kamal1", "", " DEBUG Kamal 1.5 generation (follows Kamal 1.5.2): no kamal in Gemfile.lock, no minimum_version, no Kamal 2 builder key\n"},
		{"unpinned_kamal2", "kamal2", "", " DEBUG Kamal 2.12 generation (follows Kamal 2.12.0): no kamal in Gemfile.lock, no minimum_version, builder has the Kamal 2 key arch\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := app(t, tt.app)
			if tt.pin != "" {
				pin(t, dir, tt.pin)
			}
			got, _, err := run(t, dir, "details", true, rule{Match: "docker context ls", Stdout: "NAME\n"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("details -v does not start with the generation line %q:\n%s", tt.want, got)
			}
			quiet, _, err := run(t, dir, "details", false, rule{Match: "docker context ls", Stdout: "NAME\n"})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(quiet, "generation") {
				t.Errorf("details without -v names the generation:\n%s", quiet)
			}
		})
	}
}

// localDirs maps each local script to the directory it ran in.
func localDirs(f *fakeForwards) map[string]string {
	m := map[string]string{}
	for _, c := range f.Ran() {
		if c.Host == "" {
			m[c.Script] = c.Dir
		}
	}
	return m
}

// kamal19Rules answer like the rig would for a 1.9-pinned kamal1 app:
// the clone is on HEAD, server1 and server2 use mirror A, server3 mirror B.
func kamal19Rules(t *testing.T, dir string) []rule {
	return []rule{
		{Match: "rev-parse HEAD", Stdout: revision(t, dir) + "\n"},
		{Host: "server1", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-a.example.com/\n"},
		{Host: "server2", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-a.example.com/\n"},
		{Host: "server3", Match: "RegistryConfig.Mirrors", Stdout: "https://mirror-b.example.com/\n"},
	}
}

func TestKamal19Flows(t *testing.T) {
	tests := []struct {
		sub     string
		verbose bool
	}{
		{"push", false},
		{"push", true},
		{"pull", false},
		{"pull", true},
		{"deliver", false},
		{"details", false},
	}
	for _, tt := range tests {
		name := "kamal19-" + tt.sub
		if tt.verbose {
			name += "-v"
		}
		t.Run(name, func(t *testing.T) {
			dir := app(t, "kamal1")
			pin(t, dir, "1.9.2")
			f := newFake(kamal19Rules(t, dir)...)
			got, err := runWith(t, dir, tt.sub, tt.verbose, f)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, got)
			for _, c := range f.Ran() {
				if strings.Contains(c.Script, "locks") || strings.Contains(c.Script, "git archive") {
					t.Errorf("Kamal 1.9 ran a 1.5 step on %q: %s", c.Host, c.Script)
				}
			}
			if tt.sub == "push" {
				for _, h := range []string{"server1", "server2", "server3"} {
					if ran := f.RanOn(h); len(ran) > 0 {
						t.Errorf("push ran on %s: %q", h, ran)
					}
				}
				for script, d := range localDirs(f) {
					if strings.HasPrefix(script, "docker build") && !strings.Contains(d, "kamal-clones/app-") {
						t.Errorf("the build ran in %q, not in the clone", d)
					}
				}
			}
		})
	}
}

// Kamal 1.9 probes even a plain docker build's builder (with `true`), and
// resets an existing clone in five steps, without git gc, paths as they are.
func TestKamal19PushResetsAnExistingClone(t *testing.T) {
	dir := app(t, "kamal1")
	pin(t, dir, "1.8.3")
	f := newFake(append(kamal19Rules(t, dir),
		rule{Match: "--recurse-submodules", Status: 128, Stderr: "fatal: destination path 'app' already exists and is not an empty directory.\n"})...)
	got, err := runFlow(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kamal19-push-reset-clone", got)
	if hasScript(f.RanOn(""), " gc ") {
		t.Error("Kamal 1.9 ran git gc on the clone")
	}
}

// With builder.context set, Kamal 1.9 builds the working tree from the app
// directory, and its version carries the _uncommitted_ suffix when the
// tree has changes.
func TestKamal19ContextBuildWithUncommittedChanges(t *testing.T) {
	dir := appConfig(t, "kamal1", `service: app
image: app
servers:
  - server1
registry:
  server: registry:4443
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  multiarch: false
  context: .
`)
	pin(t, dir, "1.9.2")
	if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nLABEL x=y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newFake()
	got, err := runWith(t, dir, "push", false, f)
	if err != nil {
		t.Fatal(err)
	}
	got = regexp.MustCompile(`\b[0-9a-f]{40}_uncommitted_[0-9a-f]{16}\b`).ReplaceAllString(got, "VERSION_uncommitted_RAND")
	golden(t, "kamal19-push-context", got)
	if !strings.Contains(got, "VERSION_uncommitted_RAND") {
		t.Errorf("the version of a context build with changes has no _uncommitted_ suffix:\n%s", got)
	}
	for script, d := range localDirs(f) {
		if strings.HasPrefix(script, "docker build") && d != dir {
			t.Errorf("the context build ran in %q, not in the app directory %q", d, dir)
		}
	}
}

// A remote builder reached over SSH: create runs the pre-connect hook, then
// `true` on the builder host, then creates the context and builder.
func TestKamal19CreateRemoteBuilder(t *testing.T) {
	dir := appConfig(t, "kamal1", `service: app
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
    host: ssh://builder@server2
`)
	pin(t, dir, "1.9.2")
	f := newFake()
	got, err := runFlow(t, dir, "create", false, f)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "kamal19-create-remote", got)
}

// Kamal 1 has no --no-cache, --output or dev: they are refused before
// anything runs, not ignored.
func TestKamal1RefusesKamal2OnlyOptions(t *testing.T) {
	for _, tt := range []struct {
		pin, sub string
		kwargs   []starlark.Tuple
		want     string
	}{
		{"1.9.2", "push", []starlark.Tuple{{starlark.String("no_cache"), starlark.True}}, "--no-cache needs Kamal 2: the Kamal 1.9.2 build push the app uses has no such option"},
		{"1.5.2", "push", []starlark.Tuple{{starlark.String("output"), starlark.String("docker")}}, "--output needs Kamal 2: the Kamal 1.5.2 build push the app uses has no such option"},
		{"1.9.2", "dev", nil, `Could not find command "dev" in "build" namespace.`},
	} {
		t.Run(tt.pin+"-"+tt.sub, func(t *testing.T) {
			dir := app(t, "kamal1")
			pin(t, dir, tt.pin)
			f := newFake()
			_, err := callFlow(t, dir, tt.sub, false, tt.kwargs, f)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if ran := f.Ran(); len(ran) > 0 {
				t.Errorf("ran %q before refusing", ran)
			}
		})
	}
}

// Kamal 1.9.2 renders the build command, whose Dockerfile check raises
// "Missing Dockerfile", before it probes the builder's context hosts
// (cli/build.rb: `push = KAMAL.builder.push` before run_locally).
func TestKamal19MissingDockerfileIsReportedBeforeTheContextHostsProbe(t *testing.T) {
	dir := app(t, "kamal1")
	pin(t, dir, "1.9.2")
	gitIn(t, dir, "rm", "-q", "Dockerfile")
	gitIn(t, dir, "commit", "-qm", "no Dockerfile")
	f := newFake(cloneRules(t, dir)...)
	got, err := runFlow(t, dir, "push", false, f)
	if err == nil || err.Error() != "Missing Dockerfile" {
		t.Fatalf("push: err = %v, want Missing Dockerfile\n%s", err, got)
	}
	for _, s := range f.RanOn("") {
		if s == "true" || strings.HasSuffix(s, " true") {
			t.Errorf("the context-hosts probe %q ran before the missing Dockerfile was reported:\n%s", s, got)
		}
	}
}

// Kamal 1 passes `--secret id="NAME"` and never reads the value: docker
// reads $NAME from the environment it inherits at build time
// (commands/builder/base.rb build_secrets; test/commands/builder_test.rb
// "build secrets", "native push with build secrets"). A variable set
// nowhere is docker's to report, not a KeyError; one from .env reaches
// docker's environment, as Kamal 1's dotenv put it in ENV.
func TestKamal1BuilderSecretsAreLeftForDockerToRead(t *testing.T) {
	dir := appConfig(t, "kamal1", `service: app
image: app
servers:
  - server1
registry:
  server: registry:4443
  username: kamal
  password:
    - KAMAL_REGISTRY_PASSWORD
builder:
  multiarch: false
  secrets:
    - GITHUB_TOKEN
    - NPM_TOKEN
`)
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("NPM_TOKEN=npm-from-dotenv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_TOKEN", "")
	os.Unsetenv("GITHUB_TOKEN")
	for _, release := range []string{"1.9.2", "1.5.2"} {
		t.Run(release, func(t *testing.T) {
			pin(t, dir, release)
			f := newFake(cloneRules(t, dir)...)
			got, err := runFlow(t, dir, "push", false, f)
			if err != nil {
				t.Fatalf("push: %v\n%s", err, got)
			}
			if !strings.Contains(got, ` --secret id="GITHUB_TOKEN" --secret id="NPM_TOKEN" `) {
				t.Errorf("the build does not pass both secrets by id:\n%s", got)
			}
			// The build is the only local command given an environment.
			buildEnv := strings.Join(localEnvs(f), "\n")
			if !strings.Contains(buildEnv, "NPM_TOKEN=npm-from-dotenv") || strings.Contains(buildEnv, "GITHUB_TOKEN") {
				t.Errorf("the build's environment is %q, want NPM_TOKEN from .env and no GITHUB_TOKEN", buildEnv)
			}
			if strings.Contains(got, "npm-from-dotenv") {
				t.Errorf("the .env value is in the log:\n%s", got)
			}
		})
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every kind of bad input ends the run with one error line naming the
// problem (file and line where there is one), exit status 1, and no side
// effect: no deploy lock left, nothing built or pushed.
func TestBadInput(t *testing.T) {
	star := func(app *App, src string) string {
		path := filepath.Join(app.Tmp, "bad.star")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	config := func(app *App, old, new string) { editConfig(app, old, new); app.Commit("bad config") }
	tests := []struct {
		name    string
		example string
		setup   func(app *App) []string // returns the arguments
		env     []string
		class   string
		msg     []string
		once    bool // msg[0] is printed once: on the ERROR line, not also in the traceback
	}{
		{name: "malformed_yaml", setup: func(a *App) []string {
			config(a, "image: app\n", "image: [app\n")
			return []string{"build", "push"}
		}, class: "Psych::SyntaxError", msg: []string{"(<unknown>): did not find expected ',' or ']' while parsing a flow sequence at line 5 column 8"}},
		{name: "unknown_key", setup: func(a *App) []string {
			config(a, "image: app\n", "image: app\nimage_name: app\n")
			return []string{"build", "push"}
		}, class: "Kamal::ConfigurationError", msg: []string{"unknown key: image_name"}},
		{name: "wrong_type", setup: func(a *App) []string {
			config(a, "servers:\n  - server1\n  - server2\n  - server3\n", "servers: 5\n")
			return []string{"build", "push"}
		}, class: "Kamal::ConfigurationError", msg: []string{"servers: should be an array or a hash"}},
		{name: "erb_raising", setup: func(a *App) []string {
			config(a, "service: app\n", "service: <%= ENV['X'].upcase %>\n")
			return []string{"build", "push"}
		}, class: "NoMethodError", msg: []string{"undefined method 'upcase' for nil"}},
		{name: "malformed_dotenv", setup: func(a *App) []string {
			a.WriteFile(".env", "GOOD=1\nthis is not a line\n", 0o600)
			return []string{"build", "push"}
		}, class: "Dotenv::FormatError", msg: []string{".env:2: malformed line"}},
		{name: "failing_command_in_secrets", example: "app-kamal2", setup: func(a *App) []string {
			a.WriteFile(".kamal/secrets", "KAMAL_REGISTRY_PASSWORD=$(exit 3)\n", 0o600)
			return []string{"build", "push"}
		}, class: "RuntimeError", msg: []string{".kamal/secrets:1: command $(exit 3) failed with exit status 3"}},
		// The token interpolated into the failing command is another
		// secret: the command is quoted as written (issue 20).
		{name: "failing_command_in_secrets_quoted_as_written", example: "app-kamal2", setup: func(a *App) []string {
			a.WriteFile(".kamal/secrets", "API_TOKEN=tok-e2e-9f8e7d6c5b\nKAMAL_REGISTRY_PASSWORD=$(test -z \"$API_TOKEN\" || exit 7)\n", 0o600)
			return []string{"build", "push"}
		}, class: "RuntimeError", msg: []string{`.kamal/secrets:2: command $(test -z "$API_TOKEN" || exit 7) failed with exit status 7`}},
		{name: "starlark_syntax_error", setup: func(a *App) []string {
			return []string{"build", "push", "--script", star(a, "def push(:\n")}
		}, class: "RuntimeError", msg: []string{"bad.star:1:11: got ':', want ')'"}},
		{name: "starlark_runtime_error", setup: func(a *App) []string {
			return []string{"build", "push", "--script", star(a, "def push():\n    x = 1 + \"a\"\n")}
		}, class: "RuntimeError", msg: []string{"bad.star:2:11: unknown binary op: int + string"}, once: true},
		{name: "hosts_match_nothing", setup: func(a *App) []string { return []string{"build", "pull", "--hosts", "server9*"} },
			class: "ArgumentError", msg: []string{"No --hosts match for server9*"}},
		{name: "roles_match_nothing", setup: func(a *App) []string { return []string{"build", "pull", "--roles", "db"} },
			class: "ArgumentError", msg: []string{"No --roles match for db"}},
		{name: "missing_dockerfile", example: "app-kamal2", setup: func(a *App) []string {
			a.git("rm", "-q", "Dockerfile")
			a.Commit("no Dockerfile")
			return []string{"build", "push"}
		}, class: "Kamal::Commands::Builder::Base::BuilderError", msg: []string{"Missing Dockerfile"}},
		{name: "pack_with_several_arches", example: "app-kamal2", setup: func(a *App) []string {
			config(a, "  arch: amd64\n  driver: docker\n", "  arch: [amd64, arm64]\n  pack:\n    builder: heroku/builder:24\n    buildpacks: [heroku/ruby]\n")
			return []string{"build", "push"}
		}, class: "Kamal::ConfigurationError", msg: []string{"builder: buildpacks only support building for one arch"}},
		{name: "no_git_repository", setup: func(a *App) []string {
			if err := os.RemoveAll(filepath.Join(a.Dir, ".git")); err != nil {
				t.Fatal(err)
			}
			return []string{"build", "push"}
		}, class: "RuntimeError", msg: []string{"Can't use commit hash as version, no git repository found in "}},
		{name: "hook_not_executable", setup: func(a *App) []string {
			if err := os.Chmod(filepath.Join(a.Dir, ".kamal/hooks/pre-build"), 0o644); err != nil {
				t.Fatal(err)
			}
			a.Commit("pre-build not executable")
			return []string{"build", "push"}
		}, class: "Kamal::Cli::HookError", msg: []string{"Hook `pre-build` failed:", "Permission denied"}},
		{name: "missing_ssh_key_file", setup: func(a *App) []string { return []string{"build", "pull"} },
			env: []string{"RIG_SSH_KEY=/nonexistent/id_ed25519"}, class: "RuntimeError", msg: []string{"ssh key /nonexistent/id_ed25519: open /nonexistent/id_ed25519: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			example := tt.example
			if example == "" {
				example = "app"
			}
			app := newApp(t, example)
			version := app.Version()
			args := tt.setup(app)

			stdout, stderr, exit := app.RunEnv(tt.env, args...)

			assertFailed(t, stdout, stderr, exit, tt.class, tt.msg...)
			if n := strings.Count(ansiRe.ReplaceAllString(stdout+stderr, ""), "  ERROR ("); n != 1 {
				t.Errorf("%d error lines, want 1", n)
			}
			if n := strings.Count(stdout+stderr, strings.TrimPrefix(tt.msg[0], "bad.star:2:11: ")); tt.once && n != 1 {
				t.Errorf("%q printed %d times, want once:\n%s%s", tt.msg[0], n, stdout, stderr)
			}
			assertNotContains(t, "stdout", stdout, "docker build -", "buildx build ", "tok-e2e-9f8e7d6c5b")
			assertNoLock(t)
			assertNotPushed(t, version)
		})
	}
}

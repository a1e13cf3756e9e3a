package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Git clone build. Kamal 1.9 and 2 build from a local clone of the
// repository unless builder.context is set; the Kamal 1 forms below are
// 1.9's (paths unescaped, no gc). Kamal 1.5 never clones: it pipes a git
// archive of HEAD into the build.

// CloneDir is "<tmpdir>/kamal-clones/<svc>-<first 13 hex of sha256(cwd)>".
// tmpdir is Ruby's Dir.tmpdir: $TMPDIR, $TMP, $TEMP or "/tmp".
func CloneDir(cfg *config.Config, cwd, tmpdir string) string {
	sum := sha256.Sum256([]byte(cwd))
	return rubyJoin(tmpdir, "kamal-clones", cfg.Service+"-"+hex.EncodeToString(sum[:])[:13])
}

// BuildDir is where the clone build runs:
// "<clone dir>/<basename of git root>/<cwd relative to git root>", which
// ends in "/" when cwd is the git root.
func BuildDir(cfg *config.Config, cwd, tmpdir, gitRoot string) string {
	return rubyJoin(CloneDir(cfg, cwd, tmpdir), filepath.Base(gitRoot), strings.TrimPrefix(cwd, gitRoot))
}

// clonePath escapes a path word: Kamal 2 with Shellwords, Kamal 1 raw.
func clonePath(cfg *config.Config, p string) string {
	if isV1(cfg) {
		return p
	}
	return shell.Shellwords(p)
}

func git(path string, args ...string) *shell.Command {
	return shell.New("git", "-C", path).Arg(args...)
}

// CloneRepo is `git -C <clone dir> clone <git root> --recurse-submodules`.
// The caller creates the clone dir first (mkdir -p, not logged).
func CloneRepo(cfg *config.Config, cloneDir, gitRoot string) *shell.Command {
	return git(clonePath(cfg, cloneDir), "clone", clonePath(cfg, gitRoot), "--recurse-submodules")
}

// CloneResetSteps bring an existing clone to revision, in order: remote
// set-url, fetch, reset --hard, clean -fdx, submodule update --init, and
// for Kamal 2 gc --auto --quiet.
func CloneResetSteps(cfg *config.Config, buildDir, gitRoot, revision string) []*shell.Command {
	dir := clonePath(cfg, buildDir)
	steps := []*shell.Command{
		git(dir, "remote", "set-url", "origin", clonePath(cfg, gitRoot)),
		git(dir, "fetch", "origin"),
		git(dir, "reset", "--hard", revision),
		git(dir, "clean", "-fdx"),
		git(dir, "submodule", "update", "--init"),
	}
	if !isV1(cfg) {
		steps = append(steps, git(dir, "gc", "--auto", "--quiet"))
	}
	return steps
}

// CloneStatus is `git -C <build dir> status --porcelain`; its output must
// be empty.
func CloneStatus(cfg *config.Config, buildDir string) *shell.Command {
	return git(clonePath(cfg, buildDir), "status", "--porcelain")
}

// CloneRevision is `git -C <build dir> rev-parse HEAD`; its output must be
// the local revision.
func CloneRevision(cfg *config.Config, buildDir string) *shell.Command {
	return git(clonePath(cfg, buildDir), "rev-parse", "HEAD")
}

package commands

import (
	"encoding/base64"
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Deploy lock commands. They run on the primary host at DEBUG, where
// Kamal logs them.

// AutomaticLockMessage is the message of the lock Kamal takes by itself.
const AutomaticLockMessage = "Automatic deploy lock"

// LockDir is the deploy lock directory: Kamal 2 ".kamal/lock-<svc>[-<dest>]",
// Kamal 1 "<run dir>/locks/<svc>[-<dest>]".
func LockDir(cfg *config.Config) string {
	if isV1(cfg) {
		return rubyJoin(cfg.RunDir(), "locks", serviceWithDestination(cfg))
	}
	return rubyJoin(cfg.RunDir(), "lock-"+serviceWithDestination(cfg))
}

func lockDetailsFile(cfg *config.Config) string { return rubyJoin(LockDir(cfg), "details") }

// MkdirRunDirectory is `mkdir -p <run dir>`, run on every selected host
// before the lock is taken and before a Kamal 2 audit record.
func MkdirRunDirectory(cfg *config.Config) *shell.Command {
	return shell.New("mkdir", "-p", cfg.RunDir())
}

// MkdirLocks is Kamal 1's `mkdir -p <run dir>/locks` on the primary host;
// empty for Kamal 2.
func MkdirLocks(cfg *config.Config) *shell.Command {
	if !isV1(cfg) {
		return &shell.Command{}
	}
	return shell.New("mkdir", "-p", rubyJoin(cfg.RunDir(), "locks"))
}

// LockDetails is the lock's details text, three lines without a trailing
// newline. lockedBy is `git config user.name` ("Unknown" without git),
// timestamp UTC ISO 8601.
func LockDetails(lockedBy, timestamp, version, message string) string {
	return "Locked by: " + lockedBy + " at " + timestamp + "\nVersion: " + version + "\nMessage: " + message
}

// mimeBase64 is Ruby's Base64.encode64: standard base64 with a newline
// after every 60 characters and after the last line.
func mimeBase64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60] + "\n")
		enc = enc[60:]
	}
	if enc != "" {
		b.WriteString(enc + "\n")
	}
	return b.String()
}

// LockAcquire creates the lock directory and writes details (see
// LockDetails) into it, MIME base64 encoded so the newlines of the encoding
// sit inside the double quotes:
//
//	mkdir <dir> && echo "<base64>" > <dir>/details
//
// It fails with "cannot create directory" when the lock is held.
func LockAcquire(cfg *config.Config, details string) *shell.Command {
	return shell.Combine(
		shell.New("mkdir", LockDir(cfg)),
		shell.New("echo", `"`+mimeBase64(details)+`"`, ">", lockDetailsFile(cfg)))
}

// LockRelease is `rm <dir>/details && rm -r <dir>`.
func LockRelease(cfg *config.Config) *shell.Command {
	return shell.Combine(
		shell.New("rm", lockDetailsFile(cfg)),
		shell.New("rm", "-r", LockDir(cfg)))
}

// LockStatus prints the decoded details of a held lock:
// `stat <dir> > /dev/null && cat <dir>/details | base64 -d`. It fails with
// "No such file or directory" when there is no lock.
func LockStatus(cfg *config.Config) *shell.Command {
	return shell.Combine(
		shell.New("stat", LockDir(cfg), ">", "/dev/null"),
		shell.Pipe(shell.New("cat", lockDetailsFile(cfg)), shell.New("base64", "-d")))
}

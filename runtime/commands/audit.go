package commands

import (
	"strings"
	"time"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Now is the time as Kamal writes it in audit lines, lock details and
// KAMAL_RECORDED_AT: UTC ISO 8601 to the second.
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05Z") }

// AuditLine is the line Kamal appends to the audit log:
// "[<timestamp>] [<performer>][ [<dest>]] <message>". timestamp is UTC
// ISO 8601 ("2024-05-01T10:00:00Z"); performer is `git config user.email`
// (Kamal 2) or its fallback `whoami`.
func AuditLine(cfg *config.Config, performer, timestamp, message string) string {
	tags := "[" + timestamp + "] [" + performer + "]"
	if cfg.Destination != "" {
		tags += " [" + cfg.Destination + "]"
	}
	return tags + " " + message
}

// AuditLogFile is "<run dir>/<svc>[-<dest>]-audit.log".
func AuditLogFile(cfg *config.Config) string {
	return rubyJoin(cfg.RunDir(), serviceWithDestination(cfg)+"-audit.log")
}

// Audit appends line (see AuditLine) to the audit log on a host.
//
// Kamal 2: `mkdir -p .kamal && echo "<escaped line>" >> .kamal/<file>`.
// Kamal 1: `echo <line> >> <run dir>/<file>`, the line unquoted (each of
// its space-separated words is a word of the command). Kamal 1.9's build
// subcommands never create the run directory, so on a server without one
// its pull fails here; kamal-go creates it first, unlogged (the log reads
// as Kamal's).
func Audit(cfg *config.Config, line string) *shell.Command {
	if isV1(cfg) {
		c := shell.New("echo").Arg(strings.Split(line, " ")...).Arg(">>", AuditLogFile(cfg))
		if cfg.Release == config.Kamal19 {
			c.Setup = shell.New("mkdir", "-p", cfg.RunDir())
		}
		return c
	}
	return shell.Combine(
		MkdirRunDirectory(cfg),
		shell.New("echo", shell.Escape(line), ">>", AuditLogFile(cfg)))
}

package commands

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// serviceWithDestination is "<svc>" or "<svc>-<dest>", the stem of the lock
// directory and the audit log file.
func serviceWithDestination(cfg *config.Config) string {
	if cfg.Destination == "" {
		return cfg.Service
	}
	return cfg.Service + "-" + cfg.Destination
}

// isV1 reports whether cfg is a Kamal 1 configuration (1.5.2 or 1.9.2:
// their commands are rendered alike; the flows differ in the script).
func isV1(cfg *config.Config) bool { return cfg.Generation == config.Kamal1 }

// escape quotes a value the way the configuration's Kamal generation does.
func escape(cfg *config.Config, s string) string {
	if isV1(cfg) {
		return shell.EscapeV1(s)
	}
	return shell.Escape(s)
}

// rubyJoin joins path parts like Ruby's File.join: exactly one "/" between
// parts, nothing cleaned, and an empty last part leaving a trailing "/".
func rubyJoin(parts ...string) string {
	out := ""
	for i, p := range parts {
		if i == 0 {
			out = p
			continue
		}
		out = strings.TrimRight(out, "/") + "/" + strings.TrimLeft(p, "/")
	}
	return out
}

package commands

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Image naming (spec §4), kept local so this package does not depend on
// helpers another package may add to config.

// image is the configured image, or the service name when a Kamal 2 local
// registry lets the image be omitted.
func image(cfg *config.Config) string {
	if cfg.Image == "" {
		return cfg.Service
	}
	return cfg.Image
}

// repository is "<registry.server>/<image>", or just the image for Docker Hub.
func repository(cfg *config.Config) string {
	if cfg.Registry.Server == "" {
		return image(cfg)
	}
	return cfg.Registry.Server + "/" + image(cfg)
}

// absoluteImage is "<repository>:<version>".
func absoluteImage(cfg *config.Config, version string) string {
	return repository(cfg) + ":" + version
}

// latestImage is "<repository>:latest" or "<repository>:latest-<dest>".
func latestImage(cfg *config.Config) string {
	tag := "latest"
	if cfg.Destination != "" {
		tag += "-" + cfg.Destination
	}
	return repository(cfg) + ":" + tag
}

// serviceWithDestination is "<svc>" or "<svc>-<dest>", the stem of the lock
// directory and the audit log file.
func serviceWithDestination(cfg *config.Config) string {
	if cfg.Destination == "" {
		return cfg.Service
	}
	return cfg.Service + "-" + cfg.Destination
}

// runDirectory is Kamal 1's run_directory (default ".kamal"); Kamal 2
// always uses ".kamal".
func runDirectory(cfg *config.Config) string {
	if cfg.Generation == config.Kamal1 && cfg.RunDirectory != "" {
		return cfg.RunDirectory
	}
	return ".kamal"
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

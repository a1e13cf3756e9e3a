package commands

import (
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// MirrorNoneMessage is the failure text of MirrorProbe on a host without
// registry mirrors; Kamal treats it as "no mirror".
const MirrorNoneMessage = "error calling index: reflect: slice index out of range"

// MirrorProbe prints a host's first registry mirror, which Kamal 2's pull
// seeds first:
// `docker info --format '{{index .RegistryConfig.Mirrors 0}}'`.
func MirrorProbe() *shell.Command {
	return shell.New("docker", "info", "--format '{{index .RegistryConfig.Mirrors 0}}'")
}

// ImageRemove is `docker image rm --force <image>` (run without raising).
func ImageRemove(image string) *shell.Command {
	return shell.New("docker", "image", "rm", "--force", image)
}

// Pull is `docker pull <image>`.
func Pull(image string) *shell.Command {
	return shell.New("docker", "pull", image)
}

// ValidateImage checks the pulled image carries the service label:
//
//	docker inspect -f '{{ .Config.Labels.service }}' <image> | grep -x <svc> || (echo "Image <image> is missing the 'service' label" && exit 1)
func ValidateImage(cfg *config.Config, image string) *shell.Command {
	return shell.Any(
		shell.Pipe(
			shell.New("docker", "inspect", "-f", "'{{ .Config.Labels.service }}'", image),
			shell.New("grep", "-x", cfg.Service)),
		shell.New(`(echo "Image `+image+` is missing the 'service' label" && exit 1)`))
}

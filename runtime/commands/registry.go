package commands

import (
	"strconv"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// LocalRegistryContainer is the name of Kamal 2's local registry container.
const LocalRegistryContainer = "kamal-docker-registry"

// LocalRegistryStart starts (or first runs) Kamal 2's local registry:
//
//	docker start kamal-docker-registry || docker run --detach -p 127.0.0.1:<port>:5000 --name kamal-docker-registry registry:3
//
// Empty when the registry is not local.
func LocalRegistryStart(cfg *config.Config) *shell.Command {
	if !cfg.Registry.Local {
		return &shell.Command{}
	}
	port := strconv.Itoa(cfg.Registry.LocalPort)
	return shell.Any(
		shell.New("docker", "start", LocalRegistryContainer),
		shell.New("docker", "run", "--detach", "-p", "127.0.0.1:"+port+":5000", "--name", LocalRegistryContainer, "registry:3"))
}

// LocalRegistryRemove is `docker stop kamal-docker-registry && docker rm
// kamal-docker-registry`; empty when the registry is not local.
func LocalRegistryRemove(cfg *config.Config) *shell.Command {
	if !cfg.Registry.Local {
		return &shell.Command{}
	}
	return shell.Combine(
		shell.New("docker", "stop", LocalRegistryContainer),
		shell.New("docker", "rm", LocalRegistryContainer))
}

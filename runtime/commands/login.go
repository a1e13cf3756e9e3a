package commands

import (
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Login renders `docker login [<server>] -u <user> -p <password>` (§12.1)
// with resolved credentials. Both values are escaped (Kamal 2: Escape,
// Kamal 1: EscapeV1) and sensitive, so they log as [REDACTED]. The server
// is omitted for Docker Hub. A Kamal 2 local registry needs no login: the
// result is then empty.
func Login(cfg *config.Config, user, password string) *shell.Command {
	if !isV1(cfg) && cfg.Registry.Local {
		return &shell.Command{}
	}
	cmd := shell.New("docker", "login")
	if cfg.Registry.Server != "" {
		cmd.Arg(cfg.Registry.Server)
	}
	return cmd.Arg("-u").Secret(escape(cfg, user)).Arg("-p").Secret(escape(cfg, password))
}

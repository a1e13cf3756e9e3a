package commands

import (
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// Login renders Kamal's registry login with resolved credentials,
// except that the password never appears in any process's arguments: the
// command runs
//
//	docker login [<server>] -u <escaped user> --password-stdin
//
// with the password as its standard input (Command.Stdin), while its log
// lines read as Kamal's
//
//	docker login [<server>] -u [REDACTED] -p [REDACTED]
//
// The user is escaped (Kamal 2: Escape, Kamal 1: EscapeV1) and sensitive.
// The server is omitted for Docker Hub. A Kamal 2 local registry needs no
// login: the result is then empty.
func Login(cfg *config.Config, user, password string) *shell.Command {
	if !isV1(cfg) && cfg.Registry.Local {
		return &shell.Command{}
	}
	cmd := shell.New("docker", "login")
	if cfg.Registry.Server != "" {
		cmd.Arg(cfg.Registry.Server)
	}
	cmd.Arg("-u").Secret(escape(cfg, user)).Shown("--password-stdin", "-p "+shell.Redacted)
	cmd.Stdin = password
	return cmd
}

// Logout is Kamal's `docker logout [<server>]` (the server omitted for
// Docker Hub). A Kamal 2 local registry has nothing to log out of: the
// result is then empty.
func Logout(cfg *config.Config) *shell.Command {
	if !isV1(cfg) && cfg.Registry.Local {
		return &shell.Command{}
	}
	cmd := shell.New("docker", "logout")
	if cfg.Registry.Server != "" {
		cmd.Arg(cfg.Registry.Server)
	}
	return cmd
}

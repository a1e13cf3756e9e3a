// Package sshurl is the one parser of ssh:// URLs (Kamal's remote
// builders, ssh.run hosts): github.com/docker/cli's connhelper, the parser
// docker itself uses for the same URL, so both read it the same way.
package sshurl

import (
	"fmt"
	"strconv"
	"strings"

	dockerssh "github.com/docker/cli/cli/connhelper/ssh"
)

// URL is a parsed "ssh://[user@]host[:port]". Empty User and zero Port
// were not given.
type URL struct {
	User string
	Host string
	Port int
}

// Is reports whether s is an ssh:// URL.
func Is(s string) bool { return strings.HasPrefix(s, "ssh://") }

// Parse parses s. A path other than "/", a query, a fragment or a
// password is an error, as for docker.
func Parse(s string) (URL, error) {
	sp, err := dockerssh.ParseURL(s)
	if err != nil {
		return URL{}, fmt.Errorf("%q: %w", s, err)
	}
	if sp.Path != "" && sp.Path != "/" {
		return URL{}, fmt.Errorf("%q: invalid SSH URL: a path is not allowed", s)
	}
	u := URL{User: sp.User, Host: sp.Host}
	if sp.Port != "" {
		n, err := strconv.Atoi(sp.Port)
		if err != nil || n <= 0 || n > 65535 {
			return URL{}, fmt.Errorf("%q: invalid SSH URL: bad port %q", s, sp.Port)
		}
		u.Port = n
	}
	return u, nil
}

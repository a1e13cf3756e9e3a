//go:build tools

package tools

import (
	_ "github.com/creack/pty"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "go.starlark.net/starlark"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/crypto/ssh"
	_ "golang.org/x/crypto/ssh/agent"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "golang.org/x/term"
)

module github.com/kamal-go/kamal

go 1.26.8

require (
	github.com/creack/pty v1.1.24
	github.com/google/go-containerregistry v0.21.7
	github.com/rogpeppe/go-internal v1.16.0
	github.com/spf13/pflag v1.1.0
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
	go.yaml.in/yaml/v3 v3.0.6
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require golang.org/x/tools v0.46.0 // indirect

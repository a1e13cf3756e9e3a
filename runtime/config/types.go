// Package config loads a Kamal deploy configuration: config/deploy.yml (with
// its destination overlay), the ERB subset real configs use, validation with
// Kamal's messages, secrets from .kamal/secrets* (Kamal 2) or the process
// environment and .env files (Kamal 1).
//
// A *Config is read-only after Load returns and safe for concurrent use;
// secrets are resolved lazily, once, under a mutex.
package config

import (
	"context"
	"io"
)

// Generation is the major version of the Kamal the app uses: it decides
// the configuration format, secrets and validation rules. Which release's
// flow runs within a generation is Config.Release.
type Generation int

const (
	// Kamal1 is Kamal 1.x (releases Kamal15 and Kamal19).
	Kamal1 Generation = 1
	// Kamal2 is Kamal 2.x (release Kamal212).
	Kamal2 Generation = 2
)

// Options say where and how to load.
type Options struct {
	// Context cuts off the commands ERB backticks and secrets' $(...) run,
	// while loading and at a secret's first lookup (an interrupt). Nil
	// means never.
	Context context.Context
	// Dir is the working directory every relative path is resolved against
	// (the app's root). Empty means the process's working directory.
	Dir string
	// Path is the config file (-c), default "config/deploy.yml".
	Path string
	// Destination is -d; empty for none.
	Destination string
	// Getenv looks up process environment variables (ERB, Kamal 1 secrets,
	// VERSION). Nil means os.LookupEnv.
	Getenv func(key string) (string, bool)
	// Stderr receives the stderr of commands run by ERB backticks and
	// secrets' $(...). Nil means os.Stderr.
	Stderr io.Writer
	// OnSecret, when set, is called with every secret value as soon as it
	// is known (all values of the secrets files once they are read, and
	// each value looked up), so a logger can redact it. It may be called
	// concurrently.
	OnSecret func(values ...string)
	// InlineSecrets, when set, runs a secrets file's $(kamal secrets ...)
	// in-process, as Kamal does, instead of through the shell: it gets the
	// words after "kamal" (shell-split) and returns what the command
	// prints, or its error, which then ends the load.
	InlineSecrets func(args []string) (string, error)
	// KamalVersion is the version minimum_version is checked against.
	// Empty means the chosen release's (Release.Version).
	KamalVersion string
}

// Config is a loaded, validated configuration.
type Config struct {
	// Release is the Kamal release the run follows, chosen from the app's
	// Gemfile.lock, minimum_version or builder keys; ReleaseReason says
	// which and how. Generation is Release.Generation().
	Release       Release
	ReleaseReason string
	Generation    Generation
	Path          string // absolute path of the base file
	Destination   string
	// Progress is x-kamal-go/progress: "plain", "condensed" or "" (unset:
	// plain, unless --progress says otherwise).
	Progress string

	Service string
	Image   string // without registry host; Kamal 2 local registry without image: Service

	// Roles in Kamal's order: sorted by name; a plain server list is the one role "web".
	Roles       []Role
	PrimaryRole string // default "web"
	// AccessoryHosts are hosts named only by accessories (kept for host filtering).
	AccessoryHosts []string

	Registry Registry
	Builder  Builder
	SSH      SSH
	SSHKit   SSHKit
	Serve    Serve // x-kamal-go/serve

	HooksPath    string // as configured, default ".kamal/hooks"
	SecretsPath  string // default ".kamal/secrets" (Kamal 2)
	RunDirectory string // as loaded: Kamal 1 run_directory, else DefaultRunDirectory; use RunDir

	RequireDestination bool
	AllowEmptyRoles    bool

	// HooksOutput is the global hooks_output level ("quiet", "verbose" or
	// ""); HookOutputs the per-hook levels (Kamal 2). See HookOutput.
	HooksOutput string
	HookOutputs map[string]string

	// Warnings are Kamal's own warnings (inline ssh key_data), printed
	// on standard error as Ruby's warn does.
	Warnings []string

	// LegacyKeys are kamal-go settings written where older kamal-go read
	// them ("ssh/connect_timeout") instead of under x-kamal-go: they work
	// here, with a warning each, and the app's Kamal refuses them
	// (HandOffError).
	LegacyKeys []string

	// Raw is the merged YAML document (after ERB), for keys build does not model.
	Raw map[string]any

	secrets *Secrets
	rawDoc  *mapping                    // Raw in document order (RawSection)
	dir     string                      // absolute app directory
	getenv  func(string) (string, bool) // process environment
	dotenv  map[string]string           // Kamal 1 .env values
}

// Role is one server role.
type Role struct {
	Name  string
	Hosts []string
}

// Registry is the registry section.
type Registry struct {
	Server   string // empty: Docker Hub
	Username Value
	Password Value
	// Local is Kamal 2's own local registry: server "localhost:PORT".
	Local     bool
	LocalPort int
}

// Value is a configured string that is either literal or the name of a
// secret (a one-element array in YAML).
type Value struct {
	Literal string
	Secret  string // non-empty: look up this secret
}

// Builder is the builder section, both generations' keys.
type Builder struct {
	// Kamal 2
	Arches     []string // "arch", string or list
	Remote     string   // Kamal 2 remote URL
	Local      *bool    // Kamal 2 "local" boolean; nil when absent
	Driver     string   // default "docker-container"
	Provenance *string  // present (even "false") renders --provenance
	SBOM       *bool
	Pack       *Pack

	// Kamal 1
	Multiarch  *bool // nil: default (true)
	LocalHost  *ArchHost
	RemoteHost *ArchHost

	// Both
	Context    string // empty: not set
	HasContext bool
	Dockerfile string // default "Dockerfile"
	Target     string
	Args       []KV // config order
	Secrets    []string
	SSH        string
	Cache      *Cache
}

// Pack is the Kamal 2 buildpacks section.
type Pack struct {
	Builder    string
	Buildpacks []string
}

// ArchHost is a Kamal 1 builder.local or builder.remote hash.
type ArchHost struct {
	Arch string
	Host string
}

// Cache is builder.cache.
type Cache struct {
	Type    string // gha or registry
	Options string
	Image   string
}

// KV is one ordered key/value pair (builder args). Value is the YAML
// scalar as text; IsFalse and IsEmpty record Kamal's special renderings.
type KV struct {
	Key     string
	Value   string
	IsFalse bool // YAML false
	IsEmpty bool // null or ""
}

// SSH is the ssh section.
type SSH struct {
	// User and Port are empty when deploy.yml leaves them unset: the SSH
	// transport then takes ssh_config's, else root and 22.
	User string
	Port int
	// BadPort is a port that is no port number ("x"): Kamal accepts any
	// string and fails only when it connects, so the runtime does too.
	BadPort      string
	Proxy        string // "root@" already prepended when no "@"
	ProxyCommand string
	Keys         []string
	KeyData      []Value // Kamal 2: secret names; Kamal 1: raw PEM
	KeysOnly     bool
	LogLevel     string // default "fatal"
	// Kamal 2 ssh.config: NoConfig for false, ConfigFiles for a path or
	// list; neither means the default OpenSSH config files.
	NoConfig     bool
	ConfigFiles  []string
	ForwardAgent bool // Kamal 2
	// ConnectTimeout bounds each connection attempt, in seconds (0: the
	// transport's default, 30); a kamal-go extension.
	ConnectTimeout int
}

// Serve is x-kamal-go/serve: the settings of --serve (kamal-go's own).
type Serve struct {
	// CacheMaxMB bounds the local layer cache (runtime/layercache), in
	// MiB; 0: no cache, every serve reads the image with docker image
	// save into an unlinked temporary file.
	CacheMaxMB int
	// MaxHosts is how many hosts pull the served image at once
	// (default DefaultServeMaxHosts).
	MaxHosts int
	// MaxMBInFlight bounds the megabytes read out of the image and not yet
	// written to any host, all hosts together: the copy buffers
	// (default DefaultServeMaxMBInFlight).
	MaxMBInFlight int
}

// DefaultCacheMaxMB is x-kamal-go/serve/cache_max_mb when unset: 10 GiB,
// room for the layers of a few releases of several apps.
const DefaultCacheMaxMB = 10240

// The defaults of x-kamal-go/serve/max_hosts and max_mb_in_flight.
const (
	DefaultServeMaxHosts      = 30
	DefaultServeMaxMBInFlight = 64
)

// SSHKit is the sshkit section.
type SSHKit struct {
	MaxConcurrentStarts int // default 30
	MaxConcurrentHosts  int // 0: unlimited
	PoolIdleTimeout     int // default 900
	DNSRetries          int // default 3
	// CommandTimeout bounds each command on a host, in seconds (0: no
	// bound); a kamal-go extension.
	CommandTimeout int
}

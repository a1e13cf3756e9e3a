package runstate

import (
	"context"
	"github.com/kamal-go/kamal/runtime/progress"
	"strings"
	"sync"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/hook"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/shell"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Flags are the global command-line options the flow can see.
type Flags struct {
	Verbose, Quiet bool
	SkipHooks      bool
	DryRun         bool
	Primary        bool
	Version        string // --version
	Hosts, Roles   []string
	Destination    string
	ConfigFile     string
	Command        string // "build"
	Subcommand     string // "push"
	// LockWait polls a deploy lock held automatically by another run
	// (--lock-wait), for up to LockWaitTimeout seconds (default 900), every
	// LockWaitInterval seconds (default 15).
	LockWait                          bool
	LockWaitTimeout, LockWaitInterval float64
}

// State is the state of one run, made by New: the builtins (through
// builtins.Env) and the commands written in Go read it alike. Its fields
// are set before the run starts and not changed after; the git cache is
// guarded, so a State is safe for concurrent use.
type State struct {
	Dir       string // the app's root: where config, hooks and git live
	Config    *config.Config
	Selection *config.Selection
	Flags     Flags
	Version   string // resolved once before the script starts
	Runner    *sshkit.Runner
	Log       *log.Logger
	// Builder renders the configured builder's commands.
	Builder commands.Builder
	// NewBuilder renders the builder for a variant of Config (docker.build
	// with overrides); nil: overrides are refused.
	NewBuilder func(*config.Config) (commands.Builder, error)
	// Lock is the deploy lock, Hooks the hooks, of this run.
	Lock  *lock.Lock
	Hooks *hook.Hooks
	// HandOff runs the app's own Kamal with the command line the user
	// typed plus extra, and returns its exit status (the hand_off
	// builtin); nil for commands that do not hand off. Set by cmd/kamal.
	HandOff func(ctx context.Context, extra []string) (int, error)
	// Progress is --progress=condensed's live line (nil: plain output),
	// which on() shows its steps on. Set by cmd/kamal.
	Progress *progress.Line

	mu       sync.Mutex
	gitCache map[string]string
}

// Git runs `git args...` in the app directory (sshkit.Runner.Query: through
// the local transport, unlogged, also in a dry run) and returns its
// trimmed output; results are cached for the run, as Kamal computes them
// once.
func (s *State) Git(ctx context.Context, args ...string) (string, error) {
	key := strings.Join(args, "\x00")
	s.mu.Lock()
	if v, ok := s.gitCache[key]; ok {
		s.mu.Unlock()
		return v, nil
	}
	s.mu.Unlock()
	v, err := s.Runner.Query(ctx, s.Dir, append([]string{"git"}, args...)...)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	if s.gitCache == nil {
		s.gitCache = map[string]string{}
	}
	s.gitCache[key] = v
	s.mu.Unlock()
	return v, nil
}

// Performer is who the audit log and hooks name: git's user.email, else
// the local user name (`whoami`). It is worked out once per run (each hook
// and audit line asks for it).
func (s *State) Performer(ctx context.Context) string {
	const key = "\x00performer"
	s.mu.Lock()
	v, ok := s.gitCache[key]
	s.mu.Unlock()
	if ok {
		return v
	}
	v = "Unknown"
	if email, err := s.Git(ctx, "config", "user.email"); err == nil && email != "" {
		v = email
	} else if out, err := s.Runner.Query(ctx, "", "whoami"); err == nil {
		v = out
	}
	s.mu.Lock()
	if s.gitCache == nil {
		s.gitCache = map[string]string{}
	}
	s.gitCache[key] = v
	s.mu.Unlock()
	return v
}

// RegistryLogin renders `docker login` with the registry credentials,
// resolving secrets now (config registers the password with the logger);
// both credentials are sensitive words (docker.login(), kamal registry
// login).
func (s *State) RegistryLogin() (*shell.Command, error) {
	user, err := s.Config.Resolve(s.Config.Registry.Username)
	if err != nil {
		return nil, err
	}
	password, err := s.Config.Resolve(s.Config.Registry.Password)
	if err != nil {
		return nil, err
	}
	return commands.Login(s.Config, user, password), nil
}

// Close releases the run's connections.
func (s *State) Close() {
	if c, ok := s.Runner.Remote.(interface{ Close() error }); ok {
		c.Close()
	}
}

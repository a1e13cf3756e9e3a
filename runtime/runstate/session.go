// Package runstate sets up the state of one run: the config loaded, the
// hosts selected, the version resolved and the runner wired (New), for
// the interpreter and the commands written in Go alike.
package runstate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	goruntime "runtime"
	"sort"
	"strings"
	"time"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/executor"
	"github.com/kamal-go/kamal/runtime/hook"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/lock"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Options say how to set up a run.
type Options struct {
	// Context is the run's: cancelling it (an interrupt) cuts off the
	// commands the config runs while it loads.
	Context context.Context
	Dir     string // the app's root
	Log     *log.Logger
	Flags   Flags // Flags.DryRun is the run's one dry-run switch
	// Local and Remote replace the real transports (tests use fakes).
	Local, Remote executor.Transport
	// InlineSecrets runs a secrets file's $(kamal secrets ...) in-process
	// (config.Options.InlineSecrets).
	InlineSecrets func(args []string) (string, error)
	// Passphrase asks for an encrypted key's passphrase
	// (executor.SSHConfig.Passphrase); nil when there is no terminal to
	// ask on.
	Passphrase func(keyFile string) ([]byte, error)
	// Stderr receives what Kamal prints with Ruby's warn (the config's
	// warnings, net-ssh's log at ssh.log_level info or debug) and the
	// standard error of the config's commands; nil discards them.
	Stderr io.Writer
}

// New loads the config, selects hosts, resolves the version and wires
// the runner: everything a script needs for one run. It connects to
// nothing: SSH connections open on first use.
func New(o Options) (*State, error) {
	f := o.Flags
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	// The set-up's processes (git, docker's architecture) stop with it.
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	// Every secret value is registered with the logger as soon as it is
	// resolved, so no log line, error or trace can show it.
	cfg, err := config.Load(config.Options{Context: o.Context, Dir: o.Dir, Path: f.ConfigFile, Destination: f.Destination, OnSecret: o.Log.AddSecret, InlineSecrets: o.InlineSecrets, Stderr: o.Stderr})
	if err != nil {
		return nil, err
	}
	// Scrubbing output never touches the config's own text (a host that
	// is also a secret's value prints as the host).
	o.Log.AddPlain(cfg.PlainText()...)
	// Kamal's own warnings go to standard error, as Ruby's warn does.
	for _, w := range cfg.Warnings {
		fmt.Fprintln(o.Stderr, w)
	}
	sel, err := cfg.Select(f.Hosts, f.Roles, f.Primary)
	if err != nil {
		return nil, err
	}
	env := &State{
		Dir:       o.Dir,
		Config:    cfg,
		Selection: sel,
		Log:       o.Log,
		Flags:     f,
	}
	runner := &sshkit.Runner{Log: o.Log, Local: o.Local, Remote: o.Remote, DryRun: f.DryRun, LocalUser: sshkit.LocalUserFromEnv(),
		CommandTimeout: time.Duration(cfg.SSHKit.CommandTimeout) * time.Second}
	if runner.Local == nil {
		runner.Local = &executor.Local{Env: dotEnv(cfg)}
	}
	env.Runner = runner
	if needsVersion(f.Subcommand) {
		if env.Version, err = resolveVersion(ctx, env, f.Version, cfg.Getenv, o.Stderr); err != nil {
			return nil, err
		}
	}
	localArch := ""
	if cfg.Builder.Remote != "" && cfg.Generation == config.Kamal2 {
		// A dry run or help runs nothing: assume docker's architecture is
		// this machine's rather than calling docker at start-up.
		localArch = probeLocalArch(ctx, runner, f.DryRun || f.Subcommand == "help")
	}
	if env.Builder, err = commands.NewBuilder(cfg, localArch); err != nil {
		return nil, err
	}
	env.NewBuilder = func(c *config.Config) (commands.Builder, error) { return commands.NewBuilder(c, localArch) }
	if runner.Remote == nil {
		sshCfg, err := sshConfig(cfg, o.Log, o.Stderr)
		if err != nil {
			return nil, err
		}
		sshCfg.Passphrase = o.Passphrase
		runner.Remote = executor.NewSSH(sshCfg)
		if cfg.SSH.BadPort != "" {
			runner.Remote = badPort{cfg.SSH.BadPort}
		}
	}
	env.Lock = &lock.Lock{
		Config: cfg, Host: sel.Primary, Runner: runner, Log: o.Log, Version: env.Version,
		LockedBy: func(ctx context.Context) string { v, _ := env.Git(ctx, "config", "user.name"); return v },
		Wait:     lock.Wait{On: f.LockWait, Timeout: f.LockWaitTimeout, Interval: f.LockWaitInterval},
	}
	env.Hooks = &hook.Hooks{
		Config: cfg, Dir: o.Dir, Skip: f.SkipHooks, Runner: runner, Log: o.Log,
		Version: env.Version, Hosts: sel.Hosts, Command: f.Command, Subcommand: f.Subcommand,
		Performer: env.Performer, Locked: env.Lock.Held,
	}
	if len(f.Roles) > 0 {
		env.Hooks.Roles = sel.Roles
	}
	return env, nil
}

// badPort fails every connection as Net::SSH does when ssh.port is no
// port number: Kamal loads such a config and fails when it connects.
type badPort struct{ port string }

func (b badPort) Run(context.Context, string, executor.Request) (int, error) {
	return 0, kamalerr.Errorf(kamalerr.ClassSocket, "getaddrinfo(3): Servname not supported for ai_socktype (ssh port %q)", b.port)
}

// needsVersion: builder setup commands work without an app version (and
// so without git).
func needsVersion(sub string) bool {
	switch sub {
	case "create", "remove", "details", "help":
		return false
	}
	return true
}

// dotEnv is what Kamal 1 adds to its process environment at start, from
// the .env files, so that hooks and builds see it (the real environment
// wins: config.DotEnv leaves out what it has). The local commands get it
// through their executor: this process's environment is left as it is.
func dotEnv(cfg *config.Config) []string {
	m := cfg.DotEnv()
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// resolveVersion follows Kamal: --version, else $VERSION, else the git
// revision, with a random _uncommitted_ suffix when a context build (which
// sends the working tree, not a clone) has uncommitted changes (Kamal 1.9
// and 2; Kamal 1.5 never adds it).
// getenv is the run's environment (Kamal 1: .env included).
func resolveVersion(ctx context.Context, env *State, flag string, getenv func(string) (string, bool), stderr io.Writer) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v, ok := getenv("VERSION"); ok {
		return v, nil
	}
	rev, err := env.Git(ctx, "rev-parse", "HEAD")
	if err != nil {
		// Kamal asks `git rev-parse` whether git is used, then takes what
		// `git rev-parse HEAD` prints: in a repository with no commit yet
		// that is "HEAD" (git's complaint reaching standard error).
		if _, inRepo := env.Git(ctx, "rev-parse"); inRepo != nil {
			return "", kamalerr.New(kamalerr.ClassRuntime, "Can't use commit hash as version, no git repository found in "+env.Dir)
		}
		if _, complaint, ok := strings.Cut(err.Error(), ": exit status 128: "); ok {
			fmt.Fprintln(stderr, complaint)
		}
		rev = "HEAD"
	}
	if (env.Config.Generation == config.Kamal2 || env.Config.Release == config.Kamal19) && env.Config.Builder.HasContext {
		if changes, _ := env.Git(ctx, "status", "--porcelain"); changes != "" {
			var b [8]byte
			rand.Read(b[:])
			rev += "_uncommitted_" + hex.EncodeToString(b[:])
		}
	}
	return rev, nil
}

// probeLocalArch asks the local docker its architecture, silently
// (runner.Query), as Kamal does for the hybrid split; with assume, it
// calls nothing and takes this machine's architecture.
func probeLocalArch(ctx context.Context, runner *sshkit.Runner, assume bool) string {
	if assume {
		return commands.NormalizeArch(goruntime.GOARCH)
	}
	out, err := runner.Query(ctx, "", "docker", "info", "--format", "{{.Architecture}}")
	if err != nil {
		return ""
	}
	return commands.NormalizeArch(out)
}

// sshConfig turns the ssh and sshkit sections into the transport's
// configuration, reading ssh_config (ssh.config) as net-ssh does.
func sshConfig(cfg *config.Config, logger *log.Logger, stderr io.Writer) (executor.SSHConfig, error) {
	s := executor.SSHConfig{
		User:                cfg.SSH.User,
		Port:                cfg.SSH.Port,
		Keys:                cfg.SSH.Keys,
		KeysOnly:            cfg.SSH.KeysOnly,
		Proxy:               cfg.SSH.Proxy,
		ProxyCommand:        cfg.SSH.ProxyCommand,
		ForwardAgent:        cfg.SSH.ForwardAgent,
		MaxConcurrentStarts: cfg.SSHKit.MaxConcurrentStarts,
		PoolIdleTimeout:     time.Duration(cfg.SSHKit.PoolIdleTimeout) * time.Second,
		Retries:             cfg.SSHKit.DNSRetries,
		ConnectTimeout:      time.Duration(cfg.SSH.ConnectTimeout) * time.Second,
		Debugf:              logger.Debugf,
		Getenv:              func(k string) string { v, _ := cfg.Getenv(k); return v },
	}
	if s.Retries == 0 {
		s.Retries = -1 // dns_retries: 0 means none; the transport reads 0 as its default
	}
	if s.Proxy != "" && s.ProxyCommand != "" {
		return s, kamalerr.New(kamalerr.ClassConfiguration, "ssh: proxy and proxy_command are both set: keep one")
	}
	switch cfg.SSH.LogLevel {
	case "", "fatal", "error", "warn":
		// net-ssh logs nothing of a working connection at these levels.
	case "info", "debug":
		// net-ssh's logger writes to standard error at this level: so do
		// the transport's diagnostics, with or without -v.
		s.Debugf = func(format string, args ...any) {
			fmt.Fprintf(stderr, "D, [%s] %5s -- net.ssh: %s\n", time.Now().Format("2006-01-02T15:04:05.000000"), strings.ToUpper(cfg.SSH.LogLevel), fmt.Sprintf(format, args...))
		}
	default:
		return s, kamalerr.Errorf(kamalerr.ClassConfiguration, "ssh/log_level: unknown level %q (expected debug, info, warn, error or fatal)", cfg.SSH.LogLevel)
	}
	if !cfg.SSH.NoConfig {
		paths, required := executor.DefaultOpenSSHConfigFiles, false
		if len(cfg.SSH.ConfigFiles) > 0 {
			paths, required = cfg.SSH.ConfigFiles, true
		}
		oc, err := executor.ReadOpenSSHConfig(paths, required)
		if err != nil {
			return s, kamalerr.New(kamalerr.ClassConfiguration, err.Error())
		}
		s.OpenSSH = oc
	}
	keys, warnings, err := cfg.SSHKeyData()
	if err != nil {
		return s, err
	}
	// Kamal warns with Ruby's warn: a plain line on standard error.
	for _, w := range warnings {
		fmt.Fprintln(stderr, w)
	}
	// config has registered every key with the logger (Options.OnSecret).
	for _, key := range keys {
		s.KeyData = append(s.KeyData, []byte(key))
	}
	return s, nil
}

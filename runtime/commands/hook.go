package commands

import (
	"strings"

	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/shell"
)

// HookPath is "<hooks_path>/<name>" (hooks_path default ".kamal/hooks"),
// the file whose existence decides whether the hook runs.
func HookPath(cfg *config.Config, name string) string {
	dir := cfg.HooksPath
	if dir == "" {
		dir = ".kamal/hooks"
	}
	return rubyJoin(dir, name)
}

// HookCommand runs a hook as the single word "<hooks_path>/<name>", logged
// as `/usr/bin/env .kamal/hooks/<name>`. It carries no environment: Kamal 2
// puts HookEnv into the process environment; Kamal 1 attaches it to the
// command (see HookRun).
func HookCommand(cfg *config.Config, name string) *shell.Command {
	return shell.New(HookPath(cfg, name))
}

// HookRun is the hook command as the generation runs it: for Kamal 1 with
// HookEnv attached, so the executed and DEBUG forms read
// `( export KAMAL_RECORDED_AT="…" … ; /usr/bin/env .kamal/hooks/<name> )`;
// for Kamal 2 the bare HookCommand.
func HookRun(cfg *config.Config, name string, d HookDetails) *shell.Command {
	cmd := HookCommand(cfg, name)
	if isV1(cfg) {
		cmd.Env = HookEnv(cfg, d)
	}
	return cmd
}

// HookDetails are the run facts a hook sees besides the configuration.
// Empty fields are not exported.
type HookDetails struct {
	RecordedAt string   // UTC ISO 8601, e.g. "2026-11-25T17:37:52Z"
	Performer  string   // git user.email, or whoami
	Version    string   // full version
	Hosts      []string // selected hosts, joined with ","
	Command    string   // top-level command: "build", "deploy", ...
	Subcommand string   // real Kamal leaves it empty for CLI runs
	Roles      []string // Kamal 2: only with -r
	Lock       string   // Kamal 2: "true" or "false"
	Runtime    string   // post-deploy only
	Secrets    []shell.EnvVar
}

// AbbreviatedVersion is the first 7 characters of version, or all of it
// when it contains "_" (an _uncommitted_ version).
func AbbreviatedVersion(version string) string {
	if strings.Contains(version, "_") || len(version) <= 7 {
		return version
	}
	return version[:7]
}

// HookEnv is the ordered KAMAL_* environment of a hook, in the order
// Kamal sets it.
//
// Kamal 1 (1.5.2, as recorded): KAMAL_RECORDED_AT, KAMAL_PERFORMER,
// [KAMAL_DESTINATION], KAMAL_VERSION, KAMAL_SERVICE_VERSION, KAMAL_HOSTS,
// KAMAL_COMMAND, [KAMAL_SUBCOMMAND], [KAMAL_RUNTIME] — 1.5.2 has no
// KAMAL_SERVICE; 1.9.2 adds it after KAMAL_SERVICE_VERSION, as Kamal 2.
//
// Kamal 2: KAMAL_RECORDED_AT, KAMAL_PERFORMER, [KAMAL_DESTINATION],
// KAMAL_VERSION, KAMAL_SERVICE_VERSION, KAMAL_SERVICE, KAMAL_HOSTS,
// [KAMAL_ROLES], [KAMAL_LOCK], KAMAL_COMMAND, [KAMAL_SUBCOMMAND],
// [KAMAL_RUNTIME], then d.Secrets as given.
func HookEnv(cfg *config.Config, d HookDetails) []shell.EnvVar {
	var env []shell.EnvVar
	add := func(key, value string) {
		if value != "" {
			env = append(env, shell.EnvVar{Key: "KAMAL_" + key, Value: value})
		}
	}
	add("RECORDED_AT", d.RecordedAt)
	add("PERFORMER", d.Performer)
	add("DESTINATION", cfg.Destination)
	add("VERSION", d.Version)
	if d.Version != "" {
		add("SERVICE_VERSION", cfg.Service+"@"+AbbreviatedVersion(d.Version))
	}
	if !isV1(cfg) || cfg.Release == config.Kamal19 {
		add("SERVICE", cfg.Service)
	}
	add("HOSTS", strings.Join(d.Hosts, ","))
	if !isV1(cfg) {
		add("ROLES", strings.Join(d.Roles, ","))
		add("LOCK", d.Lock)
	}
	add("COMMAND", d.Command)
	add("SUBCOMMAND", d.Subcommand)
	add("RUNTIME", d.Runtime)
	if !isV1(cfg) {
		env = append(env, d.Secrets...)
	}
	return env
}

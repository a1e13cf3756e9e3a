// Package hook runs Kamal's hooks: the executable
// <hooks_path>/NAME in the app directory, with the KAMAL_* environment of
// the run. The Starlark hook() builtin and the commands written in Go
// (`kamal lock`, `kamal registry`) are both this package.
package hook

import (
	"context"
	"os"
	"path/filepath"
	"sync"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/kamalerr"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// Hooks are one run's hooks. Its fields are set before first use; its
// methods are safe for concurrent use.
type Hooks struct {
	Config *config.Config
	Dir    string // the app directory: hooks run there, hooks_path is relative to it
	Skip   bool   // -H: no hook runs
	Runner *sshkit.Runner
	Log    *log.Logger

	// What a hook is told of the run.
	Version             string
	Hosts               []string // the selected hosts
	Roles               []string // the roles selected with -r, else nil
	Command, Subcommand string
	// Performer names who runs kamal (git's user.email, else whoami).
	Performer func(context.Context) string
	// Locked reports whether the run holds the deploy lock.
	Locked func() bool

	mu         sync.Mutex
	preConnect bool // the pre-connect hook ran (or was skipped) already
}

// Run runs hook name if it exists and hooks are not skipped, and reports
// whether it ran. pre-connect runs at most once per run, as in Kamal.
// Kamal 1 prints "Running the NAME hook..." first. A failing hook is a
// Kamal::Cli::HookError.
func (h *Hooks) Run(ctx context.Context, name string) (bool, error) {
	if h.Skip {
		return false, nil
	}
	if name == "pre-connect" {
		h.mu.Lock()
		done := h.preConnect
		h.preConnect = true
		h.mu.Unlock()
		if done {
			return false, nil
		}
	}
	path := commands.HookPath(h.Config, name)
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(h.Dir, path)
	}
	if _, err := os.Stat(abs); err != nil {
		return false, nil
	}
	d := h.details(ctx)
	c := commands.HookRun(h.Config, name, d)
	o := sshkit.Options{Level: log.Info, Dir: h.Dir}
	if h.Config.Generation == config.Kamal1 {
		h.Log.Say("Running the "+name+" hook...", "magenta")
	} else {
		for _, kv := range commands.HookEnv(h.Config, d) {
			o.Env = append(o.Env, kv.Key+"="+kv.Value)
		}
		if name == "pre-connect" {
			secrets, err := h.Config.Secrets().All()
			if err != nil {
				return false, err
			}
			// Their values are already registered with the logger
			// (config.Options.OnSecret).
			for _, kv := range secrets {
				o.Env = append(o.Env, kv.Key+"="+kv.Value)
			}
		}
	}
	if _, err := h.Runner.Run(ctx, "", c, o); err != nil {
		return false, kamalerr.New(kamalerr.ClassHook, "Hook `"+name+"` failed:\n"+err.Error())
	}
	return true, nil
}

// details are the run facts a hook sees. Kamal 1 exports no
// subcommand when run from the command line; Kamal 2's hooks get it in
// the process environment, where no log line shows it.
func (h *Hooks) details(ctx context.Context) commands.HookDetails {
	d := commands.HookDetails{
		RecordedAt: commands.Now(),
		Performer:  h.Performer(ctx),
		Version:    h.Version,
		Hosts:      h.Hosts,
		Command:    h.Command,
	}
	if h.Config.Generation == config.Kamal2 {
		d.Subcommand = h.Subcommand
		d.Roles = h.Roles
		d.Lock = "false"
		if h.Locked() {
			d.Lock = "true"
		}
	}
	return d
}

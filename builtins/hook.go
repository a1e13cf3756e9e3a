package builtins

import (
	"os"
	"path/filepath"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/runtime/commands"
	"github.com/kamal-go/kamal/runtime/config"
	"github.com/kamal-go/kamal/runtime/log"
	"github.com/kamal-go/kamal/runtime/sshkit"
)

// hookDetails are the run facts a hook sees (spec §9.3). Kamal 1 exports
// no subcommand when run from the command line; Kamal 2's hooks get it in
// the process environment, where no log line shows it.
func (e *Env) hookDetails() commands.HookDetails {
	d := commands.HookDetails{
		RecordedAt: timestamp(),
		Performer:  e.Performer(),
		Version:    e.Version,
		Hosts:      e.Selection.Hosts,
		Command:    e.Flags.Command,
	}
	if e.Config.Generation == config.Kamal2 {
		d.Subcommand = e.Flags.Subcommand
		if len(e.Flags.Roles) > 0 {
			d.Roles = e.Selection.Roles
		}
		d.Lock = "false"
		if e.LockHeld() {
			d.Lock = "true"
		}
	}
	return d
}

// RunHook runs hook name if it exists and hooks are not skipped, and
// reports whether it ran. pre-connect runs at most once per process, as in
// Kamal. A failing hook is a Kamal::Cli::HookError.
func (e *Env) RunHook(thread *starlark.Thread, name string) (bool, error) {
	if e.Flags.SkipHooks {
		return false, nil
	}
	if name == "pre-connect" {
		e.mu.Lock()
		done := e.preConnect
		e.preConnect = true
		e.mu.Unlock()
		if done {
			return false, nil
		}
	}
	path := commands.HookPath(e.Config, name)
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(e.Dir, path)
	}
	if _, err := os.Stat(abs); err != nil {
		return false, nil
	}
	d := e.hookDetails()
	c := commands.HookRun(e.Config, name, d)
	o := sshkit.Options{Level: log.Info}
	if e.Config.Generation == config.Kamal1 {
		e.Log.Say("Running the "+name+" hook...", "magenta")
	} else {
		for _, kv := range commands.HookEnv(e.Config, d) {
			o.Env = append(o.Env, kv.Key+"="+kv.Value)
		}
		if name == "pre-connect" {
			secrets, err := e.Config.Secrets().All()
			if err != nil {
				return false, err
			}
			for _, kv := range secrets {
				e.Log.AddSecret(kv.Value)
				o.Env = append(o.Env, kv.Key+"="+kv.Value)
			}
		}
	}
	o.Dir = e.Dir
	if _, err := e.run(thread, Context(thread), "", c, o); err != nil {
		return false, NewError("Kamal::Cli::HookError", "Hook `"+name+"` failed:\n"+err.Error())
	}
	return true, nil
}

var hookGlobal = Builtin{
	Sig: "hook(name)",
	Doc: "Runs the hook <hooks_path>/NAME locally with Kamal's KAMAL_* environment and returns True, or returns False when it is missing or -H was given. Kamal 1 configs print \"Running the NAME hook...\" first. pre-connect runs at most once per process. A failing hook raises Kamal::Cli::HookError.",
	Fn:  hookBuiltin,
}

func hookBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	ran, err := EnvOf(thread).RunHook(thread, name)
	return starlark.Bool(ran), err
}

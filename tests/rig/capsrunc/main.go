// Command capsrunc is the OCI runtime the test rig registers with every
// dockerd it starts (tests/rig/up, tests/rig/netns): it removes from the
// container's spec every capability outside this machine's bounding set and
// then execs runc with the same arguments.
//
// Why: buildx's docker-container driver (Kamal 2's default builder) runs
// BuildKit in a --privileged container, and dockerd asks runc for every
// capability it knows. This sandbox's bounding set lacks some of them
// (CAP_SYS_RESOURCE: see CapBnd in /proc/self/status), so runc fails with
// "unable to apply caps: operation not permitted". A capability outside the
// bounding set can never be granted, so dropping it changes nothing for any
// container that runc could start anyway: every other container runs as
// with plain runc.
//
// The spec is <bundle>/config.json for `create` and `run` (--bundle, default
// the working directory) and the --process file for `exec`.
//
// One more edit, for the rig's BuildKit image only (its entrypoint is
// HostNetEntrypoint, see tests/rig/buildkit): the container gets the network
// namespace runc was started in (its dockerd's) bind-mounted at HostNetPath,
// and the entrypoint runs buildkitd in it. BuildKit then reaches the rig's
// registry on 127.0.0.1, as with `--driver-opt network=host`, while dockerd
// still sets up the container's own network as usual.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// HostNetEntrypoint is the entrypoint of the rig's BuildKit containers.
const HostNetEntrypoint = "/usr/bin/rig-buildkitd"

// HostNetPath is where those containers find their dockerd's network namespace.
const HostNetPath = "/run/rig-host-netns"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "capsrunc:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	runc, err := realRunc()
	if err != nil {
		return err
	}
	cmd, rest := subcommand(args)
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "bundle", "b")
		if bundle == "" {
			bundle = "."
		}
		if err := editFile(filepath.Join(bundle, "config.json"), func(spec map[string]any) error {
			if p, ok := spec["process"].(map[string]any); ok {
				filterCaps(p, bounding())
				if isHostNetEntrypoint(p) {
					addHostNetMount(spec, os.Getpid())
				}
			}
			return nil
		}); err != nil {
			return err
		}
	case "exec":
		if file := flagValue(rest, "process", "p"); file != "" {
			if err := editFile(file, func(p map[string]any) error {
				filterCaps(p, bounding())
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return syscall.Exec(runc, append([]string{runc}, args...), os.Environ())
}

// realRunc is the first runc on PATH that is not this program.
func realRunc() (string, error) {
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	for _, dir := range filepath.SplitList(os.Getenv("PATH") + ":/usr/sbin:/usr/bin:/sbin:/bin") {
		p := filepath.Join(dir, "runc")
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			continue
		}
		if r, _ := filepath.EvalSymlinks(p); r == self {
			continue
		}
		return p, nil
	}
	return "", fmt.Errorf("no runc on PATH")
}

// globalWithValue are runc's global flags that take a value.
var globalWithValue = map[string]bool{"root": true, "log": true, "log-format": true, "criu": true, "rootless": true}

// subcommand splits runc's arguments into its command and what follows it.
func subcommand(args []string) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		name := strings.TrimLeft(a, "-")
		if !strings.Contains(name, "=") && globalWithValue[name] {
			i++
		}
	}
	return "", nil
}

// flagValue finds --long VALUE, --long=VALUE, -short VALUE among args.
func flagValue(args []string, long, short string) string {
	for i, a := range args {
		switch {
		case a == "--"+long || a == "-"+long || a == "-"+short:
			if i+1 < len(args) {
				return args[i+1]
			}
		case strings.HasPrefix(a, "--"+long+"="):
			return strings.TrimPrefix(a, "--"+long+"=")
		case strings.HasPrefix(a, "-"+long+"="):
			return strings.TrimPrefix(a, "-"+long+"=")
		}
	}
	return ""
}

// editFile rewrites the JSON object in path through edit, keeping its mode
// and every field edit does not touch.
func editFile(path string, edit func(map[string]any) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := edit(v); err != nil {
		return err
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, st.Mode().Perm())
}

// capNames are Linux's capabilities by number (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

// bounding is the set of capability names this process may hold, from
// CapBnd in /proc/self/status (nil if it cannot be read: nothing is dropped).
func bounding() map[string]bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return nil
			}
			return capSet(mask)
		}
	}
	return nil
}

func capSet(mask uint64) map[string]bool {
	set := map[string]bool{}
	for i, name := range capNames {
		if mask&(1<<uint(i)) != 0 {
			set[name] = true
		}
	}
	return set
}

// filterCaps drops from process.capabilities every known capability not in
// allowed; unknown names are left for runc to judge. A nil allowed drops nothing.
func filterCaps(process map[string]any, allowed map[string]bool) {
	caps, ok := process["capabilities"].(map[string]any)
	if !ok || allowed == nil {
		return
	}
	known := map[string]bool{}
	for _, n := range capNames {
		known[n] = true
	}
	for kind, list := range caps {
		names, ok := list.([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, n := range names {
			s, _ := n.(string)
			if known[s] && !allowed[s] {
				continue
			}
			kept = append(kept, n)
		}
		caps[kind] = kept
	}
}

// isHostNetEntrypoint: process.args runs HostNetEntrypoint, directly or
// under docker's init (`/sbin/docker-init -- ENTRYPOINT ...`, which buildx
// asks for).
func isHostNetEntrypoint(process map[string]any) bool {
	args, _ := process["args"].([]any)
	if len(args) > 0 && args[0] == HostNetEntrypoint {
		return true
	}
	return len(args) > 2 && strings.HasSuffix(fmt.Sprint(args[0]), "/docker-init") && args[1] == "--" && args[2] == HostNetEntrypoint
}

// addHostNetMount bind-mounts the network namespace of process pid (runc
// itself, which runs in its dockerd's namespace) at HostNetPath.
func addHostNetMount(spec map[string]any, pid int) {
	mounts, _ := spec["mounts"].([]any)
	spec["mounts"] = append(mounts, map[string]any{
		"destination": HostNetPath,
		"type":        "bind",
		"source":      fmt.Sprintf("/proc/%d/ns/net", pid),
		"options":     []any{"bind", "ro"},
	})
}

package e2e

// The REPL against the rig: Ctrl-C on a terminal cancels a remote command
// that hangs and keeps the prompt and the connection.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestREPLCtrlCCancelsARemoteCommandAndKeepsThePrompt(t *testing.T) {
	app := newApp(t, "app")
	t.Cleanup(func() {
		for _, pid := range sleepers("2998") {
			exec.Command("kill", pid).Run()
		}
	})
	r := app.startTTY("repl") // its cleanup, which kills kamal, runs first
	expect, send, screen := r.expect, r.send, r.screen

	expect(">>> ")
	send(`ssh.run(config.primary_host, cmd("sleep", "2998"))` + "\r")
	expect("Running /usr/bin/env sleep 2998 on server1")
	waitFor(t, "sleep 2998 runs in a session of server1's sshd", func() bool {
		for _, pid := range sleepers("2998") {
			if underSSHD(pid) {
				return true
			}
		}
		return false
	}, screen)
	send("\x03")
	expect("Traceback (most recent call last):")
	expect(">>> ")
	// The connection to server1 still serves the session.
	send("ssh.capture(config.primary_host, cmd(\"echo\", \"still-connected\"))\r")
	expect("\"still-connected\"\n>>> ")
	send("\x04")
	if code := r.exit(); code != 0 {
		t.Errorf("kamal repl after Ctrl-D: exit status %d", code)
	}
	// Ctrl-C sends the remote command SIGINT and closes its session, but the
	// rig's sshds run a ForceCommand, and OpenSSH refuses signals to forced
	// commands: there the sleep stays in its session until the connection
	// closes (on a server without ForceCommand, SIGINT ends it). Once the
	// prompt has left, no sleep may be left in a session, as after an
	// interrupted kamal build (faults_test.go).
	waitFor(t, "no sleep 2998 is left in an sshd session", func() bool {
		for _, pid := range sleepers("2998") {
			if underSSHD(pid) {
				return false
			}
		}
		return true
	}, screen)
}

// sleepers are the pids of "sleep SECONDS" processes.
func sleepers(seconds string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && string(b) == "sleep\x00"+seconds+"\x00" {
			out = append(out, e.Name())
		}
	}
	return out
}

// waitFor polls cond until it holds; a minute without it fails the test.
func waitFor(t *testing.T, what string, cond func() bool, screen func() string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("%s: not within a minute; the terminal showed:\n%s", what, screen())
}

// underSSHD reports whether an ancestor of pid is an sshd.
func underSSHD(pid string) bool {
	for i := 0; i < 64 && pid != "1" && pid != "0"; i++ {
		stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
		if err != nil {
			return false
		}
		// "pid (comm) state ppid ..."
		s := string(stat)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < 0 {
			return false
		}
		if i > 0 && s[open+1:close] == "sshd" {
			return true
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 {
			return false
		}
		pid = f[1]
	}
	return false
}

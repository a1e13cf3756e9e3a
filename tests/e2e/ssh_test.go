package e2e

// SSH as Kamal users have it set up, against the rig's OpenSSH servers:
// ~/.ssh/config aliases and keys, a proxy command through `ssh -W`, keys
// only in an ssh-agent, an encrypted key typed at a terminal, bad inputs.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// homesScript adds `kamal build homes`: every host prints its HOME (each
// rig server has its own), so the output shows which server answered.
const homesScript = `
def homes():
    """Print every host's HOME"""
    results = on(config.hosts, lambda h: ssh.run(h, cmd("printenv", "HOME")))
    for h, r in zip(config.hosts, results):
        say("home of %s: %s" % (h, r.stdout.strip()))

def agent():
    """List the keys of the agent each host sees"""
    results = on(config.hosts, lambda h: ssh.run(h, cmd("ssh-add", "-l"), rescue = True))
    for h, r in zip(config.hosts, results):
        say("agent on %s: %s" % (h, (r.stdout + r.stderr).strip()))
`

// sshApp is the Kamal 1 sample app with servers and ssh section replaced
// and the homes subcommand.
func sshApp(t *testing.T, servers []string, sshSection string) *App {
	t.Helper()
	return sshAppOf(t, "app", servers, sshSection)
}

// sshAppOf is sshApp on another example.
func sshAppOf(t *testing.T, example string, servers []string, sshSection string) *App {
	t.Helper()
	app := newApp(t, example)
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	cfg = regexp.MustCompile(`(?s)servers:\n.*?\n\n`).ReplaceAllString(cfg, "servers:\n  - "+strings.Join(servers, "\n  - ")+"\n\n")
	cfg = regexp.MustCompile(`(?s)\nssh:\n.*$`).ReplaceAllString(cfg, "\n"+sshSection)
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	app.WriteFile(".kamal/scripts/build.star", homesScript, 0o644)
	app.Commit("ssh setup")
	return app
}

func assertHomes(t *testing.T, stdout string, hostToServer map[string]string) {
	t.Helper()
	for host, server := range hostToServer {
		assertContains(t, "stdout", stdout, fmt.Sprintf("home of %s: %s\n", host, rig.Homes[server]))
	}
}

// Aliases of ~/.ssh/config in servers: HostName, Port, User and
// IdentityFile come from it; deploy.yml has no ssh section at all.
func TestSSHConfigAliasesGiveHostPortUserAndKey(t *testing.T) {
	app := sshApp(t, []string{"web1", "web2"}, "")
	app.writeHomeFile(".ssh/config", fmt.Sprintf(`Host web*
  User root
  Port %s
  IdentityFile %s
  IdentitiesOnly yes
Host web1
  HostName server1
Host web2
  HostName %s
`, rig.SSHPort, rig.SSHKey, rig.Env["RIG_SERVER_ADDR_server2"]))
	stdout, _, exit := app.Run("build", "homes")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	assertHomes(t, stdout, map[string]string{"web1": "server1", "web2": "server2"})
	assertContains(t, "stdout", stdout, "Running /usr/bin/env printenv HOME on web1\n")
	// Host keys are recorded under the address dialled, as OpenSSH does.
	kh := readFile(t, filepath.Join(app.Home, ".ssh/known_hosts"))
	assertContains(t, "known_hosts", kh, knownHost("server1")+" ", knownHost(rig.Env["RIG_SERVER_ADDR_server2"])+" ")
}

// ssh.proxy_command runs a command that carries the connection: here
// OpenSSH's `ssh -W` through server1 to server2 and server3.
func TestSSHProxyCommandThroughSSHW(t *testing.T) {
	mark := filepath.Join(t.TempDir(), "proxied")
	proxy := fmt.Sprintf("sh -c 'echo %%h:%%p >> %s; exec ssh -q -i %s -p %s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -W %%h:%%p root@server1'", mark, rig.SSHKey, rig.SSHPort)
	app := sshApp(t, []string{"server2", "server3"}, fmt.Sprintf("ssh:\n  port: %s\n  keys:\n    - %s\n  proxy_command: %q\n", rig.SSHPort, rig.SSHKey, proxy))
	stdout, _, exit := app.Run("build", "homes")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	assertHomes(t, stdout, map[string]string{"server2": "server2", "server3": "server3"})
	got := readFile(t, mark)
	for _, h := range []string{"server2", "server3"} {
		if !strings.Contains(got, h+":"+rig.SSHPort+"\n") {
			t.Errorf("the proxy command did not run for %s: %q", h, got)
		}
	}
}

// startAgent runs an ssh-agent holding key and returns its socket; the
// agent is killed (by its pid) when the test ends.
func startAgent(t *testing.T, key string) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agent.Process.Kill(); agent.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for !exists(sock) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	return sock
}

// The key only in an ssh-agent: no ssh.keys, no key file in ~/.ssh.
func TestSSHKeysOnlyInTheAgent(t *testing.T) {
	needRig(t) // it uses the rig's key before its first helper
	sock := startAgent(t, rig.SSHKey)
	app := sshApp(t, []string{"server1", "server2", "server3"}, fmt.Sprintf("ssh:\n  port: %s\n", rig.SSHPort))
	stdout, _, exit := app.RunEnv([]string{"SSH_AUTH_SOCK=" + sock}, "build", "homes")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	assertHomes(t, stdout, map[string]string{"server1": "server1", "server2": "server2", "server3": "server3"})

	// Without the agent nothing else holds the key.
	stdout, stderr, exit := app.Run("build", "homes")
	assertFailedWith(t, stdout, stderr, exit, "authentication failed for user root (tried keys: none)")
}

// encryptedCopy copies the rig's key to dir and protects it with pass.
func encryptedCopy(t *testing.T, pass string) string {
	t.Helper()
	key := filepath.Join(t.TempDir(), "id_encrypted")
	b, err := os.ReadFile(rig.SSHKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ssh-keygen", "-q", "-p", "-N", pass, "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen -p: %v\n%s", err, out)
	}
	return key
}

// runAtTerminal runs kamal with a pty as its terminal, answering prompts
// with answer, and returns everything the terminal showed and the exit
// status.
func runAtTerminal(t *testing.T, app *App, answer string, args ...string) (string, int) {
	t.Helper()
	c := exec.Command(kamalBin, args...)
	c.Dir, c.Env = app.Dir, append(app.env(nil), "TERM=dumb")
	tty, err := pty.StartWithSize(c, &pty.Winsize{Rows: 50, Cols: 400})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var buf bytes.Buffer
	answered := 0
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := tty.Read(b)
			mu.Lock()
			buf.Write(b[:n])
			if prompts := strings.Count(buf.String(), "Enter passphrase for "); prompts > answered {
				answered = prompts
				tty.Write([]byte(answer + "\r"))
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-time.After(2 * time.Minute):
		c.Process.Kill()
		<-done
		t.Fatal("kamal at a terminal did not finish")
	}
	time.Sleep(100 * time.Millisecond) // the last output
	mu.Lock()
	defer mu.Unlock()
	out := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	t.Logf("terminal:\n%s", out)
	exit := 0
	if ee, ok := werr.(*exec.ExitError); ok {
		exit = ee.ExitCode()
	}
	return out, exit
}

// A passphrase-protected key in ssh.keys: asked once at the terminal for
// three hosts; a wrong passphrase is one line and exit 1.
func TestSSHEncryptedKeyTypedAtATerminal(t *testing.T) {
	needRig(t) // it uses the rig's key before its first helper
	key := encryptedCopy(t, "correct horse")
	app := sshApp(t, []string{"server1", "server2", "server3"}, fmt.Sprintf("ssh:\n  port: %s\n  keys_only: true\n  keys:\n    - %s\n", rig.SSHPort, key))
	out, exit := runAtTerminal(t, app, "correct horse", "build", "homes")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	if n := strings.Count(out, "Enter passphrase for "+key+":"); n != 1 {
		t.Errorf("asked %d times for the passphrase, want once", n)
	}
	assertHomes(t, out, map[string]string{"server1": "server1", "server2": "server2", "server3": "server3"})
	assertNotContains(t, "terminal", out, "correct horse")

	out, exit = runAtTerminal(t, app, "wrong", "build", "homes")
	if exit != 1 {
		t.Errorf("wrong passphrase: exit %d, want 1", exit)
	}
	assertContains(t, "terminal", out, "ssh key "+key+": wrong passphrase")

	// Not at a terminal and not in the agent: one line saying what to do.
	stdout, stderr, exit := app.Run("build", "homes")
	assertFailedWith(t, stdout, stderr, exit, "ssh key "+key+" is encrypted and not in ssh-agent: add it (ssh-add "+key+") or run kamal on a terminal to type its passphrase")
}

// Bad ssh_config input stops the run before anything connects, with one
// line naming the file and exit status 1.
func TestSSHConfigBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(a *App)
		msg   string
	}{
		{"unknown option value", func(a *App) {
			a.writeHomeFile(".ssh/config", "Host *\n  StrictHostKeyChecking sometimes\n")
		}, `ssh config ~/.ssh/config:2: StrictHostKeyChecking: unknown value "sometimes" (expected yes, no, ask, accept-new, off)`},
		{"unreadable config", func(a *App) {
			if err := os.MkdirAll(filepath.Join(a.Home, ".ssh/config"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, "ssh config ~/.ssh/config: is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := sshApp(t, []string{"server1"}, fmt.Sprintf("ssh:\n  port: %s\n  keys:\n    - %s\n", rig.SSHPort, rig.SSHKey))
			tc.setup(app)
			stdout, stderr, exit := app.Run("build", "homes")
			assertFailed(t, stdout, stderr, exit, "Kamal::ConfigurationError", tc.msg)
			assertNotContains(t, "stdout", stdout, "Running")
		})
	}
}

// A remote builder whose key only kamal has (ssh.keys): docker would
// connect through OpenSSH and fail, so create stops after its checks with
// one line and exit 1, and leaves no docker context or builder.
func TestRemoteBuilderCreateStopsWhenOpenSSHCannotConnect(t *testing.T) {
	app := newApp(t, "app-kamal2")
	cfg := readFile(t, filepath.Join(app.Dir, "config/deploy.yml"))
	cfg = strings.Replace(cfg, "  arch: amd64\n  driver: docker\n", "  arch: amd64\n  local: false\n  remote: ssh://root@server1\n", 1)
	app.WriteFile("config/deploy.yml", cfg, 0o644)
	app.Commit("remote builder")
	// OpenSSH reads the passwd home's ~/.ssh, not $HOME: an ssh first on
	// PATH points it at the test's empty config, so no key of this
	// machine's root reaches it.
	app.writeHomeFile(".ssh/openssh_config", fmt.Sprintf("Host server1\n  Port %s\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking no\n  IdentityFile %s\n", rig.SSHPort, filepath.Join(app.Home, ".ssh/none")))
	sshBin, err := exec.LookPath("ssh")
	if err != nil {
		t.Fatal(err)
	}
	app.writeHomeFile("bin/ssh", "#!/bin/sh\nexec "+sshBin+" -F \"$HOME/.ssh/openssh_config\" \"$@\"\n")
	os.Chmod(filepath.Join(app.Home, "bin/ssh"), 0o755)
	const name = "kamal-remote-ssh---root-server1"
	t.Cleanup(func() {
		exec.Command("docker", "buildx", "rm", name).Run()
		exec.Command("docker", "context", "rm", "-f", name+"-context").Run()
	})

	stdout, stderr, exit := app.RunEnv([]string{"PATH=" + filepath.Join(app.Home, "bin") + ":" + os.Getenv("PATH"), "SSH_AUTH_SOCK="}, "build", "create")
	assertFailed(t, stdout, stderr, exit, "Kamal::Cli::Build::BuildError",
		"docker reaches the remote builder ssh://root@server1 through OpenSSH, which cannot connect (ssh -o BatchMode=yes -o ConnectTimeout=30 -T -l root -- server1 true: root@server1: Permission denied (publickey).)")
	assertContains(t, "stdout", stdout, "Running /usr/bin/env true on server1\n")
	assertNotContains(t, "stdout", stdout, "docker context create", "Couldn't create remote builder")
	if out, err := exec.Command("docker", "context", "inspect", name+"-context").CombinedOutput(); err == nil {
		t.Errorf("a docker context was left: %s", out)
	}
}

// assertFailedWith checks exit status 1 and an error report (of any class:
// connection failures come as SSHKit's) containing every part.
func assertFailedWith(t *testing.T, stdout, stderr string, exit int, parts ...string) {
	t.Helper()
	if exit != 1 {
		t.Errorf("exit status %d, want 1", exit)
	}
	report := errorReport(stdout, stderr)
	if report == "" {
		t.Errorf("no error report:\n%s\n%s", stdout, stderr)
	}
	assertContains(t, "error report", report, parts...)
}

// ssh.forward_agent: commands on the server see this machine's agent.
func TestSSHForwardAgent(t *testing.T) {
	needRig(t) // it uses the rig's key before its first helper
	sock := startAgent(t, rig.SSHKey)
	out, err := exec.Command("ssh-keygen", "-lf", rig.SSHKey).Output()
	if err != nil {
		t.Fatal(err)
	}
	fingerprint := strings.Fields(string(out))[1]
	for _, forward := range []bool{true, false} {
		app := sshAppOf(t, "app-kamal2", []string{"server1"}, fmt.Sprintf("ssh:\n  port: %s\n  forward_agent: %v\n", rig.SSHPort, forward))
		stdout, _, exit := app.RunEnv([]string{"SSH_AUTH_SOCK=" + sock}, "build", "agent")
		if exit != 0 {
			t.Fatalf("forward_agent %v: exit %d", forward, exit)
		}
		if got := strings.Contains(stdout, "agent on server1: 256 "+fingerprint); got != forward {
			t.Errorf("forward_agent %v: the server sees the agent's key: %v", forward, got)
		}
	}
}

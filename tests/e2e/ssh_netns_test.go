package e2e

// SSH through a bastion and to dead peers, on tests/rig/bastion (a jump host
// in a network namespace, in front of a private server only it can reach)
// and the main rig's sshds.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	bastionAddr = "10.231.0.18"
	privateAddr = "10.231.0.22"
)

// needBastionRig brings tests/rig/bastion up for the test and down after
// it; it skips the test when this machine cannot run it (exit 3).
func needBastionRig(t *testing.T) {
	t.Helper()
	needRig(t)
	script := filepath.Join(repoRoot, "tests/rig/bastion")
	out, err := exec.Command(script, "up").CombinedOutput()
	t.Cleanup(func() {
		if out, err := exec.Command(script, "down").CombinedOutput(); err != nil {
			t.Errorf("tests/rig/bastion down: %v\n%s", err, out)
		}
	})
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) && exitErr.ExitCode() == 3 {
		t.Skip("tests/rig/bastion cannot run here: " + strings.TrimSpace(string(out)))
	}
	if err != nil {
		t.Fatalf("tests/rig/bastion up: %v\n%s", err, out)
	}
}

// addrsScript adds `kamal build addrs`: every host prints its addresses,
// which tell a network namespace's host from this machine's.
const addrsScript = homesScript + `
def addrs():
    """Print every host's addresses"""
    results = on(config.hosts, lambda h: ssh.run(h, cmd("hostname", "-I")))
    for h, r in zip(config.hosts, results):
        say("addresses of %s: %s" % (h, r.stdout.strip()))

def idle(seconds = "4"):
    """Run on every host, wait here, run again"""
    on(config.hosts, lambda h: ssh.run(h, cmd("true")))
    local.run(cmd("sleep", seconds))
    on(config.hosts, lambda h: ssh.run(h, cmd("true")))

def sleepers(long = "60", short = "6"):
    """Sleep on every host: long on the host named dead, short elsewhere"""
    on(config.hosts, lambda h: ssh.run(h, cmd("sleep", long if h == "dead" else short)))
`

func bastionLog(t *testing.T) string {
	return readFile(t, filepath.Join(rig.State, "bastion/sshd/bastion/sshd.log"))
}

// The private server answers only through the bastion: natively over the
// bastion's connection, as ~/.ssh/config's ProxyJump and as ssh.proxy say.
// The bastion's sshd logs each forwarded connection.
func TestSSHJumpHostInFrontOfAPrivateServer(t *testing.T) {
	needBastionRig(t)
	// This machine has no route to the private server through the
	// bastion's link (nor any other of its own): only an SSH forward on the
	// bastion reaches it. (No packet is sent to find out: traffic stays on
	// loopback and the rig's namespaces.)
	route, _ := exec.Command("ip", "route", "get", privateAddr).CombinedOutput()
	if strings.Contains(string(route), "dev kgo-hb") {
		t.Fatalf("%s is routed through the bastion's link: the test would prove nothing\n%s", privateAddr, route)
	}
	addrs, err := exec.Command("ip", "-4", "-o", "addr").Output()
	if err != nil || strings.Contains(string(addrs), privateAddr+"/") {
		t.Fatalf("this machine has %s itself (%v): the test would prove nothing", privateAddr, err)
	}
	for _, tc := range []struct {
		name, ssh, config string
	}{
		{"ssh_config ProxyJump", "", fmt.Sprintf("Host private\n  HostName %s\n  ProxyJump jump\nHost jump\n  HostName %s\nHost *\n  User root\n  Port 22\n  IdentityFile %s\n  IdentitiesOnly yes\n", privateAddr, bastionAddr, rig.SSHKey)},
		{"ssh.proxy", fmt.Sprintf("ssh:\n  proxy: root@%s\n  keys:\n    - %s\n", bastionAddr, rig.SSHKey), fmt.Sprintf("Host private\n  HostName %s\n", privateAddr)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := sshApp(t, []string{"private"}, tc.ssh)
			app.WriteFile(".kamal/scripts/build.star", addrsScript, 0o644)
			app.writeHomeFile(".ssh/config", tc.config)
			before := strings.Count(bastionLog(t), "target "+privateAddr+" port 22")
			stdout, _, exit := app.Run("build", "addrs")
			if exit != 0 {
				t.Fatalf("exit %d", exit)
			}
			assertContains(t, "stdout", stdout, "addresses of private: "+privateAddr+"\n")
			log := bastionLog(t)
			// x/crypto's client names no originator (0.0.0.0 port 0).
			forwarded := regexp.MustCompile(`server_request_direct_tcpip: originator \S+ port \d+, target ` + regexp.QuoteMeta(privateAddr) + ` port 22`)
			if n := len(forwarded.FindAllString(log, -1)); n != before+1 {
				t.Errorf("the bastion's sshd logged %d forwarded connections to %s, want %d (one more):\n%s", n, privateAddr, before+1, log)
			}
		})
	}
}

// A pooled connection stays usable while kamal works locally for four
// times the interval at which the server probes idle clients
// (ClientAliveInterval 1, ClientAliveCountMax 2 on tests/rig/bastion): both
// commands run on one connection.
func TestSSHPooledConnectionSurvivesClientAliveProbes(t *testing.T) {
	needBastionRig(t)
	app := sshApp(t, []string{"jump"}, "")
	app.WriteFile(".kamal/scripts/build.star", addrsScript, 0o644)
	app.writeHomeFile(".ssh/config", fmt.Sprintf("Host jump\n  HostName %s\n  User root\n  Port 22\n  IdentityFile %s\n", bastionAddr, rig.SSHKey))
	before := strings.Count(bastionLog(t), "Accepted publickey")
	stdout, _, exit := app.Run("build", "idle")
	if exit != 0 {
		t.Fatalf("exit %d", exit)
	}
	if n := strings.Count(stdout, "Running /usr/bin/env true on jump"); n != 2 {
		t.Errorf("%d commands ran on jump, want 2", n)
	}
	if n := strings.Count(bastionLog(t), "Accepted publickey") - before; n != 1 {
		t.Errorf("%d connections were made, want 1 (the pooled one kept)", n)
	}
}

// deadPeerConfig is ~/.ssh/config for server1, server2 and "dead" (the
// bastion, reached directly), with keepalives every second, three missed
// allowed.
func deadPeerConfig(deadAddr, deadPort string) string {
	return fmt.Sprintf("Host server1 server2 server3\n  Port %s\nHost dead\n  HostName %s\n  Port %s\nHost *\n  User root\n  IdentityFile %s\n  ServerAliveInterval 1\n  ServerAliveCountMax 3\n",
		rig.SSHPort, deadAddr, deadPort, rig.SSHKey)
}

// startKamal starts kamal in the background and returns a function that
// waits for it: its stdout, stderr, exit status and how long it ran.
func startKamal(t *testing.T, app *App, args ...string) func() (string, string, int, time.Duration) {
	t.Helper()
	cmd := exec.Command(kamalBin, args...)
	cmd.Dir, cmd.Env = app.Dir, app.env(nil)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return func() (string, string, int, time.Duration) {
		var err error
		select {
		case err = <-done:
		case <-time.After(3 * time.Minute):
			cmd.Process.Kill()
			t.Fatalf("kamal %s hung", strings.Join(args, " "))
		}
		took := time.Since(start)
		exit := 0
		if ee, ok := err.(*exec.ExitError); ok {
			exit = ee.ExitCode()
		}
		t.Logf("$ kamal %s  # exit %d after %v\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), exit, took.Round(time.Millisecond), out.String(), errb.String())
		return out.String(), errb.String(), exit, took
	}
}

// waitForSession waits until started says the remote commands run, up to
// a generous bound.
func waitForSession(t *testing.T, started func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !started() {
		if time.Now().After(deadline) {
			t.Fatal("the remote commands did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkDeadPeerRun: the dead host is named with the lost connection, the
// others ran their 6 s sleep to the end, and the run ended long before the
// dead host's 60 s sleep would have (1 s × 3 keepalives, plus slack).
func checkDeadPeerRun(t *testing.T, stdout, stderr string, exit int, took time.Duration) {
	t.Helper()
	assertFailedWith(t, stdout, stderr, exit, "Exception while executing on host dead: ssh dead: connection lost while the command was running")
	for _, h := range []string{"server1", "server2"} {
		if !commandSucceeded(stdout, "/usr/bin/env sleep 6", h) {
			t.Errorf("sleep 6 did not finish on %s", h)
		}
	}
	if report := errorReport(stdout, stderr); strings.Contains(report, "server1") || strings.Contains(report, "server2") {
		t.Errorf("the healthy hosts are named:\n%s", report)
	}
	if took > 30*time.Second {
		t.Errorf("the run took %v: the dead host was not detected by keepalives (bound 1s x 3)", took)
	}
}

// A host whose network link goes down mid-command is named within the
// keepalive bound while the other hosts finish.
func TestSSHDeadLinkIsNamedWhileTheOthersFinish(t *testing.T) {
	needBastionRig(t)
	script := filepath.Join(repoRoot, "tests/rig/bastion")
	app := sshApp(t, []string{"server1", "server2", "dead"}, "")
	app.WriteFile(".kamal/scripts/build.star", addrsScript, 0o644)
	app.writeHomeFile(".ssh/config", deadPeerConfig(bastionAddr, "22"))
	t.Cleanup(func() { exec.Command(script, "link-up").Run() })
	before := strings.Count(bastionLog(t), "Starting session: command")
	wait := startKamal(t, app, "build", "sleepers")
	waitForSession(t, func() bool { return strings.Count(bastionLog(t), "Starting session: command") > before })
	if out, err := exec.Command(script, "link-down").CombinedOutput(); err != nil {
		t.Fatalf("link-down: %v\n%s", err, out)
	}
	stdout, stderr, exit, took := wait()
	checkDeadPeerRun(t, stdout, stderr, exit, took)
}

// sshdTree is the pid of the rig sshd of host and of every process under
// it (the connections' sshd processes), from /proc.
func sshdTree(t *testing.T, host string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(rig.State, "pids", "sshd-"+host+".pid"))
	if err != nil {
		t.Fatal(err)
	}
	root, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 {
			parent[pid], _ = strconv.Atoi(fields[1])
		}
	}
	tree := []int{root}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if containsInt(tree, pp) && !containsInt(tree, pid) {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				if strings.TrimSpace(string(comm)) == "sshd" {
					tree = append(tree, pid)
					changed = true
				}
			}
		}
	}
	return tree
}

func containsInt(list []int, x int) bool {
	for _, v := range list {
		if v == x {
			return true
		}
	}
	return false
}

// A host whose sshd freezes (SIGSTOP: the TCP connection stays up, nothing
// answers) mid-command is named within the keepalive bound while the
// others finish.
func TestSSHFrozenServerIsNamedWhileTheOthersFinish(t *testing.T) {
	app := sshApp(t, []string{"server1", "server2", "dead"}, "")
	app.WriteFile(".kamal/scripts/build.star", addrsScript, 0o644)
	app.writeHomeFile(".ssh/config", deadPeerConfig(rig.Env["RIG_SERVER_ADDR_server3"], rig.SSHPort))
	// A duration of its own, so that no other test's sleep is taken for it.
	wait := startKamal(t, app, "build", "sleepers", "--long", "61")
	// The dead host's command runs once its sshd has a session child.
	waitForSession(t, func() bool { return len(sshdTree(t, "server3")) >= 2 && sleeping("61") })
	frozen := sshdTree(t, "server3")
	for _, pid := range frozen {
		syscall.Kill(pid, syscall.SIGSTOP)
	}
	t.Cleanup(func() {
		for _, pid := range frozen {
			syscall.Kill(pid, syscall.SIGCONT)
		}
	})
	stdout, stderr, exit, took := wait()
	checkDeadPeerRun(t, stdout, stderr, exit, took)
}

// sleeping says whether a `sleep ARG` process runs on this machine (the
// rig's servers run their commands here).
func sleeping(arg string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && string(b) == "sleep\x00"+arg+"\x00" {
			return true
		}
	}
	return false
}

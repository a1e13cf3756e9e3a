package e2e

import (
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// --serve to several servers at once: a server that fails fails alone and
// is named, and x-kamal-go/serve bounds how many pull at once.

// occupyServePort makes host's 127.0.0.1:servePort taken by another
// program, so that sshd refuses kamal's forward there.
func occupyServePort(t *testing.T, host string) {
	t.Helper()
	ns := "kgo-n" + host[len(host)-1:]
	// SO_REUSEADDR, as sshd's own forwards: an earlier test's connections
	// to the port may linger in TIME_WAIT.
	cmd := exec.Command("ip", "netns", "exec", ns, "/usr/bin/python3", "-c",
		fmt.Sprintf("import socket, sys, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('127.0.0.1', %d))\ns.listen()\nprint('listening', flush=True)\ntime.sleep(600)\n", servePort))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make([]byte, len("listening\n"))
	if _, err := io.ReadFull(out, line); err != nil || string(line) != "listening\n" {
		cmd.Wait()
		t.Fatalf("could not take %s's 127.0.0.1:%d: %v %s", host, servePort, err, stderr.String())
	}
}

// netns2's forward cannot be set up (its port is taken) and netns3's
// docker CLI finds no dockerd: both fail, each with its name and reason,
// and netns1 still ends with the image.
func TestServeAFailingHostFailsAloneAndIsNamed(t *testing.T) {
	app := serveApp(t, 1)
	version := app.Version()
	app.mustRun("build", "push", "--serve")
	occupyServePort(t, "netns2")
	sock := netnsSocket["netns3"]
	if err := os.Rename(sock, sock+".moved"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Rename(sock+".moved", sock) })

	stdout, stderr, exit := app.Run("build", "pull", "--serve")
	os.Rename(sock+".moved", sock)

	assertFailed(t, stdout, stderr, exit, "RuntimeError",
		"Exception while executing on host netns2: Error setting up port forwarding to netns2: ",
		"Failed to establish port forward on netns2",
		"Exception while executing on host netns3: dockerd did not reach "+localRegistryRef(servePort, version))
	if r := errorReport(stdout, stderr); strings.Contains(r, "host netns1") {
		t.Errorf("netns1 is reported failed:\n%s", r)
	}
	m := retryLineRE.FindStringSubmatch(stdout)
	if m == nil || m[1] != "2" || m[2] != "3" || m[3] != "netns2, netns3" {
		t.Errorf("retry line %q, want 2 of 3 hosts failed (netns2, netns3)", m)
	}
	if !netnsImageExists(t, "netns1", imageRef(version)) || netnsImageExists(t, "netns1", localRegistryRef(servePort, version)) {
		t.Errorf("netns1 did not end with %s alone", imageRef(version))
	}
	for _, h := range []string{"netns2", "netns3"} {
		if netnsImageExists(t, h, imageRef(version)) {
			t.Errorf("%s has %s though its serve failed", h, imageRef(version))
		}
	}
	if strings.Contains(stdout, "Running docker pull "+localRegistryRef(servePort, version)+" on netns2") {
		t.Errorf("netns2, whose forward failed, was asked to pull")
	}
}

// commandSpans is, per host, where each run of cmd started and finished,
// as positions of its "Running" and "Finished" lines in stdout (-v).
func commandSpans(t *testing.T, stdout, cmd string) map[string][2]int {
	t.Helper()
	spans := map[string][2]int{}
	for _, m := range regexp.MustCompile(`\[([0-9a-f]+)\] Running `+regexp.QuoteMeta(cmd)+` on (\S+)\n`).FindAllStringSubmatchIndex(stdout, -1) {
		id, host := stdout[m[2]:m[3]], stdout[m[4]:m[5]]
		end := strings.Index(stdout[m[1]:], "["+id+"] Finished in ")
		if end < 0 {
			t.Fatalf("%s on %s never finished:\n%s", cmd, host, stdout)
		}
		spans[host] = [2]int{m[0], m[1] + end}
	}
	return spans
}

// overlapping is the number of pairs of spans that overlap.
func overlapping(spans map[string][2]int) int {
	var list [][2]int
	for _, s := range spans {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i][0] < list[j][0] })
	n := 0
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if list[j][0] < list[i][1] {
				n++
			}
		}
	}
	return n
}

// max_hosts: 1 pulls on one server after the other (each pull has
// finished before the next starts, read from the order of kamal's lines),
// and max_mb_in_flight: 1 still delivers 4 MB layers whole.
func TestServeMaxHostsOneServesTheServersOneAfterTheOther(t *testing.T) {
	app := serveApp(t, 4)
	editConfig(app, "ssh:\n", "x-kamal-go:\n  serve:\n    max_hosts: 1\n    max_mb_in_flight: 1\nssh:\n")
	version := app.Commit("serve one host at a time")

	stdout := app.mustRun("build", "deliver", "--serve", "-v")

	assertServed(t, app, version)
	pulls := commandSpans(t, stdout, "docker pull "+localRegistryRef(servePort, version))
	if len(pulls) != 3 {
		t.Fatalf("%d pulls, want 3:\n%s", len(pulls), stdout)
	}
	if n := overlapping(pulls); n != 0 {
		t.Errorf("%d pairs of pulls ran at the same time with max_hosts: 1", n)
	}
}

// Without a bound (the default, 30 hosts) the three pulls run at once:
// the check above can see pulls overlap.
func TestServeWithoutMaxHostsServesTheServersAtOnce(t *testing.T) {
	app := serveApp(t, 4)
	version := app.Version()

	stdout := app.mustRun("build", "deliver", "--serve", "-v")

	assertServed(t, app, version)
	pulls := commandSpans(t, stdout, "docker pull "+localRegistryRef(servePort, version))
	if n := overlapping(pulls); n == 0 {
		t.Errorf("no two pulls ran at the same time without max_hosts:\n%s", stdout)
	}
}

// servedTo counts, per layer, the blob bodies kamal logged as sent to
// host (-v: "Served DIGEST (N bytes...) to HOST").
func servedTo(stdout, host string, layers []string) map[string]int {
	n := map[string]int{}
	for _, l := range layers {
		n[l] = len(regexp.MustCompile(`Served `+regexp.QuoteMeta(l)+` \([^)]*\) to `+host+` in `).FindAllStringIndex(stdout, -1))
	}
	return n
}

// waitForNetnsImages waits until every one of hosts has ref, at most two
// minutes (while netns1's dockerd stands still).
func waitForNetnsImages(t *testing.T, ref string, hosts ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for _, h := range hosts {
		for !netnsImageExists(t, h, ref) {
			if time.Now().After(deadline) {
				t.Fatalf("%s did not get %s while netns1's pull stood still", h, ref)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// serveAppWithABigLayer is serveApp with its second layer 48 MB of bytes
// no compressor shrinks, pushed (built) once.
func serveAppWithABigLayer(t *testing.T) (app *App, version string, layers []string) {
	t.Helper()
	app = serveApp(t, 1)
	big := make([]byte, 48<<20)
	rand.Read(big)
	app.WriteFile("data2.bin", string(big), 0o644)
	version = app.Commit("a large second layer")
	app.mustRun("build", "push", "--serve")
	return app, version, imageLayers(t, imageRef(version))
}

// A pull --serve interrupted (SIGINT) once netns2 and netns3 have the
// image and netns1's dockerd, stopped, is in the middle of it (its base
// layer registered, "Pull complete"): the rerun sends netns2 and netns3
// no layer at all, and every server only what its dockerd asks for, each
// layer once. dockerd 20.10 keeps nothing of netns1's interrupted pull,
// not even the layer it had registered: the rerun sends it every layer
// again (docs/serve.md).
func TestServeAnInterruptedPullRerunSendsNothingDockerdKept(t *testing.T) {
	app, version, layers := serveAppWithABigLayer(t)
	served := localRegistryRef(servePort, version)

	pid := netnsDockerdPid(t, "netns1")
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	run := app.Start(nil, "build", "pull", "--serve", "-v")
	run.WaitFor("netns1's base layer registered", func(out string) bool {
		m := regexp.MustCompile(`\[([0-9a-f]+)\] Running docker pull ` + regexp.QuoteMeta(served) + ` on netns1\n`).FindStringSubmatch(out)
		return m != nil && regexp.MustCompile(`\[`+m[1]+`\]\s+`+short(layers[0])+`: Pull complete`).MatchString(out)
	})
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitForNetnsImages(t, imageRef(version), "netns2", "netns3")
	run.Signal(syscall.SIGINT)
	first, _, exit := run.Wait()
	syscall.Kill(pid, syscall.SIGCONT)
	if exit != 130 {
		t.Fatalf("interrupted pull exited %d, want 130:\n%s", exit, first)
	}
	time.Sleep(2 * time.Second) // netns1's dockerd, running again, ends the pull it was in
	if netnsImageExists(t, "netns1", imageRef(version)) || netnsImageExists(t, "netns1", served) {
		t.Fatalf("netns1 finished its pull before the interrupt: nothing to resume")
	}

	rerun := app.mustRun("build", "pull", "--serve", "-v")

	assertServed(t, app, version)
	for _, h := range netnsHosts {
		rep := pullReport(t, rerun, h, served)
		sent := servedTo(rerun, h, layers)
		for _, l := range layers {
			want := 0
			if rep[short(l)] == "Pull complete" {
				want = 1
			}
			if h != "netns1" && want != 0 {
				t.Errorf("%s had the image before the rerun but fetched layer %s again", h, short(l))
			}
			if sent[l] != want {
				t.Errorf("rerun sent layer %s to %s %d times, want %d (its dockerd reports %q)", short(l), h, sent[l], want, rep[short(l)])
			}
		}
	}
	if rep := pullReport(t, rerun, "netns1", served); rep[short(layers[0])] != "Pull complete" {
		t.Errorf("netns1's dockerd reports %q of the base layer it had registered before the interrupt; docs/serve.md says dockerd 20.10 keeps nothing of an interrupted pull", rep[short(layers[0])])
	}
}

// netns1's dockerd loses its connection in the middle of the large blob
// (it is stopped and its sockets to the forward are destroyed): it asks
// again for the rest only (Range: bytes=N-), which kamal answers, and the
// pull completes.
func TestServeADroppedConnectionResumesTheBlobWithARange(t *testing.T) {
	app, version, layers := serveAppWithABigLayer(t)
	pid := netnsDockerdPid(t, "netns1")
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })

	run := app.Start(nil, "build", "pull", "--serve", "-v", "-h", "netns1")
	received := regexp.MustCompile(`bytes_received:(\d+)`)
	for i := 0; ; i++ {
		out, _ := exec.Command("ip", "netns", "exec", "kgo-n1", "ss", "-Htni", "state", "established", "dst", "127.0.0.1", "dport", "=", fmt.Sprint(servePort)).Output()
		got := false
		for _, m := range received.FindAllStringSubmatch(string(out), -1) {
			if n, _ := strconv.Atoi(m[1]); n > 4<<20 {
				got = true
			}
		}
		if got {
			break
		}
		if i == 3000 {
			t.Fatal("netns1's dockerd never received 4 MB through one connection")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", "kgo-n1", "ss", "-K", "state", "established", "dst", "127.0.0.1", "dport", "=", fmt.Sprint(servePort)).CombinedOutput(); err != nil {
		t.Fatalf("ss -K: %v\n%s", err, out)
	}
	syscall.Kill(pid, syscall.SIGCONT)
	stdout, stderr, exit := run.Wait()
	if exit != 0 {
		t.Fatalf("pull exited %d:\n%s\n%s", exit, stdout, stderr)
	}
	if !netnsImageExists(t, "netns1", imageRef(version)) {
		t.Errorf("netns1 has no %s", imageRef(version))
	}
	big := layers[1]
	m := regexp.MustCompile(`Served ` + regexp.QuoteMeta(big) + ` \((\d+) bytes, bytes=(\d+)-\) to netns1 `).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no ranged request for the large layer in:\n%s", stdout)
	}
	sent, _ := strconv.Atoi(m[1])
	start, _ := strconv.Atoi(m[2])
	if start < 4<<20 {
		t.Errorf("dockerd resumed the large layer at byte %d, want past the 4 MB it had received", start)
	}
	if start+sent < 48<<20 {
		t.Errorf("the ranged request from byte %d got %d bytes, not the rest of the layer", start, sent)
	}
	if n := servedTo(stdout, "netns1", layers)[big]; n != 2 {
		t.Errorf("the large layer was sent %d times, want 2 (cut, then its rest)", n)
	}
}

// netns2's dockerd stands still, so its pull hangs: sshkit.command_timeout
// ends that one pull, netns2 fails with the timeout and the other two
// servers end with the image.
func TestServeAPullThatHangsTimesOutAloneWhileTheOthersFinish(t *testing.T) {
	app := serveApp(t, 1)
	editConfig(app, "ssh:\n", "x-kamal-go:\n  sshkit:\n    command_timeout: 5\nssh:\n")
	version := app.Commit("bound every command on a server")
	app.mustRun("build", "push", "--serve")
	pid := netnsDockerdPid(t, "netns2")
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })

	stdout, stderr, exit := app.Run("build", "pull", "--serve")
	syscall.Kill(pid, syscall.SIGCONT)

	assertFailed(t, stdout, stderr, exit, "Timeout::Error",
		"Exception while executing on host netns2: docker pull "+localRegistryRef(servePort, version)+" did not finish within 5s")
	if m := retryLineRE.FindStringSubmatch(stdout); m == nil || m[1] != "1" || m[3] != "netns2" {
		t.Errorf("retry line %q, want 1 of 3 hosts failed (netns2)", m)
	}
	for _, h := range []string{"netns1", "netns3"} {
		if !netnsImageExists(t, h, imageRef(version)) {
			t.Errorf("%s has no %s", h, imageRef(version))
		}
	}
}

// netnsSSHDListener is the pid of host's sshd listener (tests/rig/netns).
func netnsSSHDListener(t *testing.T, host string) int {
	t.Helper()
	return pidFile(t, filepath.Join(rig.State, "netns", "pids", "sshd-kgo-n"+host[len(host)-1:]+".pid"))
}

// netns2's SSH connection, which carries both its forward and its pull,
// dies in the middle of the pull (its sshd is killed while netns2's
// dockerd stands still): netns2 fails alone with the lost connection,
// and netns1 and netns3 end with the image.
func TestServeAServerWhoseConnectionDropsFailsAlone(t *testing.T) {
	app := serveApp(t, 1)
	version := app.Version()
	app.mustRun("build", "push", "--serve")
	served := localRegistryRef(servePort, version)
	dockerd := netnsDockerdPid(t, "netns2")
	if err := syscall.Kill(dockerd, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(dockerd, syscall.SIGCONT) })
	listener := netnsSSHDListener(t, "netns2")

	run := app.Start(nil, "build", "pull", "--serve")
	run.WaitForText("Running docker pull "+served+" on netns2\n", 1)
	cli := 0
	run.WaitFor("netns2's docker pull", func(string) bool {
		for p := range processes(t, "docker pull "+served) {
			for q := p; q > 1; q = parentOf(q) {
				if q == listener {
					cli = p
				}
			}
		}
		return cli != 0
	})
	killConnectionUnder(t, "netns2", listener, cli)
	stdout, stderr, exit := run.Wait()
	syscall.Kill(dockerd, syscall.SIGCONT)

	assertFailed(t, stdout, stderr, exit, "RuntimeError", "Exception while executing on host netns2:", "connection lost")
	if m := retryLineRE.FindStringSubmatch(stdout); m == nil || m[1] != "1" || m[3] != "netns2" {
		t.Errorf("retry line %q, want 1 of 3 hosts failed (netns2)", m)
	}
	for _, h := range []string{"netns1", "netns3"} {
		if !netnsImageExists(t, h, imageRef(version)) {
			t.Errorf("%s has no %s", h, imageRef(version))
		}
	}
	assertNoServeListener(t)
}

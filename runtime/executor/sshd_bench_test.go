package executor

import (
	"context"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// realSSHD is a set of OpenSSH servers started for a benchmark: one sshd per
// 16 loopback addresses (sshd listens on at most 16), all on one port,
// accepting one client key for root. Commands run in root's shell.
type realSSHD struct {
	hosts   []string // "127.77.X.Y:port"
	keyPEM  []byte
	hostKey ssh.PublicKey
}

// sshdPerDaemon is how many addresses one sshd listens on (its MAX_LISTEN_SOCKS).
const sshdPerDaemon = 16

// startRealSSHD starts enough sshds for n hosts on 127.77.0.1.. (skipping
// the benchmark where there is no sshd or no root). Extra sshd_config
// lines go into every daemon's configuration; a line with %ADDR or %I is
// written once per host, after the others, with the host's address and
// index (for Match LocalAddress blocks).
func startRealSSHD(tb testing.TB, n int, extra ...string) *realSSHD {
	tb.Helper()
	sshd, err := exec.LookPath("/usr/sbin/sshd")
	if err != nil || os.Geteuid() != 0 {
		tb.Skip("needs root and /usr/sbin/sshd")
	}
	dir := tb.TempDir()
	clientSigner, clientPEM := newKey(tb)
	_, hostPriv := newKeyPair(tb)
	block, err := ssh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		tb.Fatal(err)
	}
	hostKeyFile := filepath.Join(dir, "host_key")
	if err := os.WriteFile(hostKeyFile, pem.EncodeToMemory(block), 0o600); err != nil {
		tb.Fatal(err)
	}
	hostSigner, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		tb.Fatal(err)
	}
	auth := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(auth, ssh.MarshalAuthorizedKey(clientSigner.PublicKey()), 0o600); err != nil {
		tb.Fatal(err)
	}
	addr := func(i int) string { return fmt.Sprintf("127.77.%d.%d", i/200, i%200+1) }
	port := freePort(tb, addr(0), addr(n-1))
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		tb.Fatal(err)
	}
	rs := &realSSHD{keyPEM: clientPEM, hostKey: hostSigner.PublicKey()}
	for d := 0; d*sshdPerDaemon < n; d++ {
		var cfg strings.Builder
		fmt.Fprintf(&cfg, "Port %d\n", port)
		for i := d * sshdPerDaemon; i < min(n, (d+1)*sshdPerDaemon); i++ {
			fmt.Fprintf(&cfg, "ListenAddress %s\n", addr(i))
			rs.hosts = append(rs.hosts, net.JoinHostPort(addr(i), fmt.Sprint(port)))
		}
		fmt.Fprintf(&cfg, "HostKey %s\nPidFile none\nAuthorizedKeysFile %s\n", hostKeyFile, auth)
		cfg.WriteString("PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n" +
			"UsePAM no\nStrictModes no\nUseDNS no\nPrintMotd no\nPrintLastLog no\nX11Forwarding no\n" +
			// bash reads no ~/.bashrc (which may be slow) for ssh commands
			// when SHLVL shows it nested.
			"SetEnv SHLVL=1\n")
		for _, l := range extra {
			if !strings.Contains(l, "%I") && !strings.Contains(l, "%ADDR") {
				cfg.WriteString(l + "\n")
			}
		}
		for i := d * sshdPerDaemon; i < min(n, (d+1)*sshdPerDaemon); i++ {
			for _, l := range extra {
				if strings.Contains(l, "%I") || strings.Contains(l, "%ADDR") {
					l = strings.ReplaceAll(strings.ReplaceAll(l, "%ADDR", addr(i)), "%I", fmt.Sprint(i))
					cfg.WriteString(l + "\n")
				}
			}
		}
		cfgFile := filepath.Join(dir, fmt.Sprintf("sshd_config.%d", d))
		if err := os.WriteFile(cfgFile, []byte(cfg.String()), 0o600); err != nil {
			tb.Fatal(err)
		}
		logFile := filepath.Join(dir, fmt.Sprintf("sshd.%d.log", d))
		cmd := exec.Command(sshd, "-D", "-f", cfgFile, "-E", logFile)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		})
		last := rs.hosts[len(rs.hosts)-1]
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", last)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				b, _ := os.ReadFile(logFile)
				tb.Fatalf("sshd %d did not listen on %s: %s", d, last, b)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return rs
}

// freePort returns a port free on both addresses.
func freePort(tb testing.TB, a, b string) int {
	tb.Helper()
	for p := 30000 + os.Getpid()%20000; ; p++ {
		ok := true
		for _, h := range []string{a, b} {
			ln, err := net.Listen("tcp", net.JoinHostPort(h, fmt.Sprint(p)))
			if err != nil {
				ok = false
				break
			}
			ln.Close()
		}
		if ok {
			return p
		}
	}
}

// pool returns a pool authorized on rs, with its own known_hosts.
func (rs *realSSHD) pool(tb testing.TB, tweak ...func(*SSHConfig)) *SSH {
	cfg := SSHConfig{
		User:           "root",
		KeyData:        [][]byte{rs.keyPEM},
		KeysOnly:       true,
		KnownHostsFile: filepath.Join(tb.TempDir(), "known_hosts"),
	}
	for _, f := range tweak {
		f(&cfg)
	}
	p := NewSSH(cfg)
	tb.Cleanup(func() { p.Close() })
	return p
}

func benchCtx(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	tb.Cleanup(cancel)
	return ctx
}

// fanOut runs script on every host at once, as on(hosts, fn) does, and
// fails the benchmark if any host fails.
func fanOut(b *testing.B, p *SSH, hosts []string, script string) {
	b.Helper()
	errs := make(chan error, len(hosts))
	for _, h := range hosts {
		go func() {
			st, err := p.Run(benchCtx(b), h, Request{Script: script})
			if err == nil && st != 0 {
				err = fmt.Errorf("%s: exit status %d", h, st)
			}
			errs <- err
		}()
	}
	for range hosts {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// liveBytes is the heap and stack memory in use after a collection.
func liveBytes() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// BenchmarkSSHFanOut connects to 100 real sshds' hosts at once (one
// operation: a pool's first command on every host, with known_hosts
// already listing them, as in a second `kamal build pull`) and reports
// what one host costs the client: CPU for the connection start and one
// command, and memory held per idle pooled connection.
func BenchmarkSSHFanOut(b *testing.B) {
	const n = 100
	rs := startRealSSHD(b, n, "MaxStartups 200")
	known := filepath.Join(b.TempDir(), "known_hosts")
	warm := rs.pool(b, func(c *SSHConfig) { c.KnownHostsFile = known })
	fanOut(b, warm, rs.hosts, "true") // records every host key
	warm.Close()
	var cpu time.Duration
	var mem, gor float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before, g0 := liveBytes(), runtime.NumGoroutine()
		c0 := cpuTime()
		// pool_idle_timeout as kamal-go sets it by default (Kamal's 900 s).
		p := NewSSH(SSHConfig{User: "root", KeyData: [][]byte{rs.keyPEM}, KeysOnly: true, KnownHostsFile: known, PoolIdleTimeout: 900 * time.Second})
		fanOut(b, p, rs.hosts, "true")
		cpu += cpuTime() - c0
		mem += float64(liveBytes()) - float64(before)
		gor += float64(runtime.NumGoroutine() - g0)
		p.Close()
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n)/1000, "cpu-ms/host")
	b.ReportMetric(mem/float64(b.N*n), "live-B/host")
	b.ReportMetric(gor/float64(b.N*n), "goroutines/host")
}

// delayProxy forwards TCP connections to target, delivering every chunk
// read from either side rtt/2 after it was read, in order: a link with
// that round trip time.
func delayProxy(tb testing.TB, target string, rtt time.Duration) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	type chunk struct {
		b  []byte
		at time.Time
	}
	pump := func(dst, src net.Conn) {
		q := make(chan chunk, 4096)
		go func() {
			defer close(q)
			for {
				buf := make([]byte, 32<<10)
				n, err := src.Read(buf)
				if n > 0 {
					q <- chunk{buf[:n], time.Now().Add(rtt / 2)}
				}
				if err != nil {
					return
				}
			}
		}()
		for c := range q {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				break
			}
		}
		dst.Close()
		src.Close()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go pump(s, c)
			go pump(c, s)
		}
	}()
	return ln.Addr().String()
}

// BenchmarkSSHCommandRoundTrips runs commands one after the other on one
// warm connection to a real sshd, through a link of 50 ms round trip and
// through one of none (one operation: one `true` on each), and reports the
// round trips a command waits for: (time at 50 ms - time at 0) / 50 ms.
// The target is at most one for every command after the first.
func BenchmarkSSHCommandRoundTrips(b *testing.B) {
	const rtt = 50 * time.Millisecond
	rs := startRealSSHD(b, 1)
	p := rs.pool(b)
	per := func(delay time.Duration) time.Duration {
		host := delayProxy(b, rs.hosts[0], delay)
		run := func() {
			st, err := p.Run(benchCtx(b), host, Request{Script: "true"})
			if err != nil || st != 0 {
				b.Fatalf("status %d, %v", st, err)
			}
		}
		run() // connects; its spare session is opened
		t0 := time.Now()
		for i := 0; i < b.N; i++ {
			run()
		}
		return time.Since(t0) / time.Duration(b.N)
	}
	b.ResetTimer()
	near, far := per(0), per(rtt)
	b.ReportMetric(float64(far-near)/float64(rtt), "rtt/cmd")
	b.ReportMetric(float64(near.Microseconds())/1000, "ms/cmd-at-0")
}

// BenchmarkSSHFanOutRunning measures what one host costs while its
// command runs (one operation: `sleep 1` on 100 hosts at once, over warm
// connections, with output writers as the runner gives: one for stdout,
// another for stderr): live memory per host, taken half-way through.
func BenchmarkSSHFanOutRunning(b *testing.B) {
	const n = 100
	rs := startRealSSHD(b, n, "MaxStartups 200")
	p := rs.pool(b)
	fanOut(b, p, rs.hosts, "true")
	var mem float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := liveBytes()
		done := make(chan error, n)
		for _, h := range rs.hosts {
			go func() {
				var out, errOut discardWriter
				_, err := p.Run(benchCtx(b), h, Request{Script: "sleep 1", Stdout: &out, Stderr: &errOut})
				done <- err
			}()
		}
		time.Sleep(500 * time.Millisecond)
		mem += float64(liveBytes()) - float64(before)
		for range rs.hosts {
			if err := <-done; err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(mem/float64(b.N*n), "live-B/host")
}

// discardWriter is a writer of its own type (as log.LineWriter), so that
// stdout and stderr are two streams.
type discardWriter struct{ n int }

func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

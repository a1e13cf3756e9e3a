package executor

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// goroutinesPerHost waits (for a second: a spare session may still be
// opening) until the goroutines started since base are at most want per
// host, and returns how many there are per host when they are, or the
// last count.
func goroutinesPerHost(base, hosts int, want float64) float64 {
	deadline := time.Now().Add(time.Second)
	for {
		per := float64(runtime.NumGoroutine()-base) / float64(hosts)
		if per <= want || time.Now().After(deadline) {
			return per
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// On a thousand hosts each goroutine a connection or a command holds is
// a stack of 2-8 KiB (most of kamal-go's memory there): x/crypto/ssh has
// six per connection (reader, key exchange, multiplexer, global requests,
// channel opens, forwards), a session one. The pool adds none to an idle
// connection (keepalives and the idle check are timers, its end is seen
// by its socket), and a running command costs its session, the goroutine
// that starts it, reads its stdout and waits for it, and x/crypto's
// stderr copier. An idle connection keeps its spare session.
func TestSSHGoroutinesPerIdleConnectionAndRunningCommand(t *testing.T) {
	const n = 8
	rs := startRealSSHD(t, n)
	p := rs.pool(t, func(c *SSHConfig) { c.PoolIdleTimeout = 900 * time.Second })
	base := runtime.NumGoroutine()
	done := make(chan error, n)
	for _, h := range rs.hosts {
		go func() {
			_, err := p.Run(testCtx(t), h, Request{Script: "true"})
			done <- err
		}()
	}
	for range rs.hosts {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	const idle = 6 + 1 // x/crypto's, the spare session's
	if got := goroutinesPerHost(base, n, idle); got > idle {
		t.Errorf("idle: %.2f goroutines per connection, want at most %d", got, idle)
	}

	var started sync.WaitGroup
	started.Add(n)
	for _, h := range rs.hosts {
		go func() {
			out := &firstWrite{seen: started.Done}
			_, err := p.Run(testCtx(t), h, Request{Script: "echo started; sleep 5", Stdout: out, Stderr: &discardWriter{}})
			done <- err
		}()
	}
	started.Wait() // every command runs
	// Per running host: the idle ones, the command's session, runSession,
	// x/crypto's stderr copier, and the caller (this test's).
	const running = idle + 1 + 1 + 1 + 1
	if got := goroutinesPerHost(base, n, running); got > running {
		t.Errorf("running: %.2f goroutines per host, want at most %d", got, running)
	}
	for range rs.hosts {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

// firstWrite calls seen on its first write.
type firstWrite struct {
	once sync.Once
	seen func()
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.once.Do(f.seen)
	return len(p), nil
}

// A host's ssh_config resolution is made once per pool, not once per
// command: resolving walks every Host block and expands tokens, which on
// a thousand hosts was CPU per command and a deep stack on the caller's
// goroutine (a Starlark host thread's, which then stayed twice as large).
func TestSSHResolvesEachHostOnce(t *testing.T) {
	p := NewSSH(SSHConfig{User: "root"})
	defer p.Close()
	a, err := p.parseHost("app1.example:2222")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.parseHost("app1.example:2222")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("second command on the host resolved it again")
	}
	if c, err := p.parseHost("app2.example"); err != nil || c == a || c.hostport != "app2.example:22" {
		t.Errorf("another host: %+v, %v", c, err)
	}
}

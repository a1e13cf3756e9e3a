package executor

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// cmdConn is a connection carried by a ProxyCommand's standard input and
// output (ssh.proxy_command, ssh_config's ProxyCommand), as OpenSSH and
// net-ssh run it: sh -c, in its own process group, killed when the
// connection is closed. Its standard error is kept for the error message
// when the command ends before the SSH handshake does.
type cmdConn struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *bytes.Buffer // guarded by mu until exited
	line   string
	addr   string

	mu     sync.Mutex
	exited chan struct{}
	werr   error
	once   sync.Once
}

// dialCommand starts command (tokens already expanded) to reach hostport.
func dialCommand(command, hostport string) (net.Conn, error) {
	cmd := exec.Command("/bin/sh", "-c", command)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &cmdConn{cmd: cmd, stdin: stdin, stdout: stdout, stderr: &bytes.Buffer{}, line: command, addr: hostport, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &c.mu, w: c.stderr}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proxy command %q: %w", command, err)
	}
	go func() {
		err := cmd.Wait()
		c.mu.Lock()
		c.werr = err
		c.mu.Unlock()
		close(c.exited)
	}()
	return c, nil
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.w.(*bytes.Buffer); ok && b.Len() > 64<<10 {
		return len(p), nil // keep the start; enough for a message
	}
	return l.w.Write(p)
}

func (c *cmdConn) Read(p []byte) (int, error)  { return c.stdout.Read(p) }
func (c *cmdConn) Write(p []byte) (int, error) { return c.stdin.Write(p) }

// Close ends the command: its input is closed, and its process group
// killed.
func (c *cmdConn) Close() error {
	c.once.Do(func() {
		c.stdin.Close()
		if c.cmd.Process != nil {
			_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
	return nil
}

// failure describes how the command ended, if it has ("" while it runs).
func (c *cmdConn) failure() string {
	select {
	case <-c.exited:
	case <-time.After(200 * time.Millisecond):
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	status := "exited"
	if c.werr != nil {
		status = c.werr.Error()
	}
	msg := fmt.Sprintf("proxy command %q %s", c.line, status)
	if s := strings.TrimSpace(c.stderr.String()); s != "" {
		lines := strings.Split(s, "\n")
		msg += ": " + strings.TrimSpace(lines[len(lines)-1])
	}
	return msg
}

type cmdAddr string

func (a cmdAddr) Network() string { return "proxy-command" }
func (a cmdAddr) String() string  { return string(a) }

func (c *cmdConn) LocalAddr() net.Addr                { return cmdAddr("proxy command") }
func (c *cmdConn) RemoteAddr() net.Addr               { return cmdAddr(c.addr) }
func (c *cmdConn) SetDeadline(t time.Time) error      { return nil }
func (c *cmdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *cmdConn) SetWriteDeadline(t time.Time) error { return nil }

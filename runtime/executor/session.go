package executor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// brokenConnError reports that a command could not be started because its
// connection is unusable; the command never ran, so it can be retried on a
// new connection.
type brokenConnError struct{ err error }

func (e *brokenConnError) Error() string { return "connection unusable: " + e.err.Error() }
func (e *brokenConnError) Unwrap() error { return e.err }

// runOn runs req as a new session on c, holding one of c's session slots
// for the session's life. It takes the spare session if there is one (its
// slot comes with it), else opens one; either way it has the next
// command's session opened meanwhile (refill).
func (s *SSH) runOn(ctx context.Context, c *conn, req Request) (int, error) {
	var sess *ssh.Session
	select {
	case sess = <-c.spare:
	default:
		select {
		case sess = <-c.spare:
		case c.sessions <- struct{}{}:
		case <-ctx.Done():
			return -1, fmt.Errorf("waiting for a session: %w", ctx.Err())
		case <-c.dead:
			return -1, &brokenConnError{errors.New("connection closed")}
		}
	}
	c.touch()
	defer c.touch()
	out := newOutputs(req.Stdout, req.Stderr)
	defer out.detach()
	started := make(chan error, 1)
	done := make(chan error, 1)
	go s.runSession(ctx, c, sess, req, out, started, done)
	if err := <-started; err != nil {
		return -1, err
	}

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // finished anyway: report what happened
			return s.finish(err, c, out)
		default:
		}
		// runSession has sent SIGINT and closed the session: give the
		// server cancelDrain to end it.
		select {
		case <-done:
		case <-time.After(cancelDrain):
		}
		return -1, fmt.Errorf("command cancelled: %w", ctx.Err())
	}
	return s.finish(err, c, out)
}

// runSession runs on a goroutine of its own for one command, holding the
// session slot runOn took: it opens the session (unless sess is the
// spare), asks for the next command's spare, starts req and reports the
// start on started; once started it reads the command's stdout, waits
// for the session's end, releases the slot and reports the end on done.
// runOn waits on those two channels, which lets it give up on a
// cancelled command that the server keeps running. Opening and starting
// here leaves the caller's goroutine (for on(), one Starlark host thread
// of up to thousands) only waiting: x/crypto's packet writing, encryption
// included, runs on this short-lived stack instead. A goroutine's stack
// only shrinks while it uses under a quarter of it, so one deep call on
// the long-lived caller can keep it doubled for the rest of its wait.
func (s *SSH) runSession(ctx context.Context, c *conn, sess *ssh.Session, req Request, out outputs, started, done chan<- error) {
	release := func() { <-c.sessions }
	spare := sess != nil
	if !spare {
		var err error
		if sess, err = s.openSession(ctx, c); err != nil {
			release()
			started <- err
			return
		}
	}
	s.refill(c)
	// Stdout is read here rather than by a goroutine x/crypto would
	// start for it: one goroutine fewer per running command.
	var stdout io.Reader
	start := func(sess *ssh.Session) error {
		sess.Stdin = req.Stdin
		sess.Stderr = out.stderr
		var err error
		if stdout, err = sess.StdoutPipe(); err != nil {
			return err
		}
		return sess.Start(req.Script)
	}
	err := start(sess)
	if err != nil && spare && !isClosed(c.dead) {
		// The server closed the idle spare: start on a fresh session, in
		// the same slot.
		sess.Close()
		if sess, err = s.openSession(ctx, c); err != nil {
			release()
			started <- err
			return
		}
		err = start(sess)
	}
	if err != nil {
		sess.Close()
		release()
		if isClosed(c.dead) {
			started <- &brokenConnError{err}
		} else {
			started <- fmt.Errorf("starting command: %w", err)
		}
		return
	}
	started <- nil
	stop := context.AfterFunc(ctx, func() {
		_ = sess.Signal(ssh.SIGINT)
		_ = sess.Close()
	})
	_, _ = out.stdout.ReadFrom(stdout) // ends when the channel closes; Wait says why
	err = sess.Wait()
	stop()
	sess.Close()
	release()
	done <- err
}

// refill opens a spare session on c in the background, if c has none and a
// session slot is free, for the next command to start on without waiting
// for the open (a round trip and the server's session set-up, a sizeable
// part of a short command's cost). The spare holds its slot until a
// command takes it, so sessions never exceed MaxSessions; a refused or
// failed open just leaves no spare.
func (s *SSH) refill(c *conn) {
	if len(c.spare) > 0 || !c.refilling.CompareAndSwap(false, true) {
		return
	}
	select {
	case c.sessions <- struct{}{}:
	default:
		c.refilling.Store(false)
		return
	}
	go func() {
		defer c.refilling.Store(false)
		sess, err := c.newSession()
		if err != nil {
			<-c.sessions
			return
		}
		select {
		case c.spare <- sess:
		default:
			sess.Close()
			<-c.sessions
		}
	}()
}

// Session opens refused by the server are retried this many times, with
// backoff sessionRetryBase·2^n (capped at sessionRetryCap).
const (
	sessionRetries   = 8
	sessionRetryBase = 10 * time.Millisecond
	sessionRetryCap  = 500 * time.Millisecond
)

// openSession opens a session channel on c. OpenSSH frees a session slot
// only some time after the client has seen the session end, so an open
// that comes right after another session ended can be refused ("no more
// sessions", MaxSessions) even though fewer than MaxSessions are running:
// such refusals are retried with a short backoff. Any other failure means
// the connection is unusable (brokenConnError).
func (s *SSH) openSession(ctx context.Context, c *conn) (*ssh.Session, error) {
	for attempt := 0; ; attempt++ {
		sess, err := c.newSession()
		if err == nil {
			return sess, nil
		}
		var rejected *ssh.OpenChannelError
		if !errors.As(err, &rejected) {
			return nil, &brokenConnError{err}
		}
		if attempt >= sessionRetries {
			return nil, fmt.Errorf("opening session: %w", err)
		}
		delay := min(sessionRetryBase<<attempt, sessionRetryCap)
		s.cfg.Debugf("ssh %s: session refused (%v), retrying in %v", c.key, err, delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a session: %w", ctx.Err())
		case <-c.dead:
			return nil, &brokenConnError{errors.New("connection closed")}
		}
	}
}

// newSession opens a session channel on c, asking for agent forwarding
// on it when the host has forward_agent.
func (c *conn) newSession() (*ssh.Session, error) {
	sess, err := c.client.NewSession()
	if err != nil || !c.forwardAgent {
		return sess, err
	}
	if err := agent.RequestAgentForwarding(sess); err != nil {
		sess.Close()
		return nil, fmt.Errorf("forward_agent: %w", err)
	}
	return sess, nil
}

// finish turns a finished session's Wait result into Run's result.
func (s *SSH) finish(werr error, c *conn, out outputs) (int, error) {
	status, err := waitStatus(werr, c)
	if err != nil {
		return -1, err
	}
	return out.finish(status)
}

// waitStatus turns Session.Wait's result into an exit status.
func waitStatus(err error, c *conn) (int, error) {
	var exit *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return exit.ExitStatus(), nil
	case errors.As(err, &missing):
		// Give the connection watcher a moment to notice a dead connection
		// so the message says what happened.
		select {
		case <-c.dead:
			return -1, errors.New("connection lost while the command was running")
		case <-time.After(100 * time.Millisecond):
			return -1, errors.New("session closed without an exit status")
		}
	default:
		if isClosed(c.dead) {
			return -1, fmt.Errorf("connection lost while the command was running: %w", err)
		}
		return -1, fmt.Errorf("running command: %w", err)
	}
}

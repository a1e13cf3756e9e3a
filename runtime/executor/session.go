package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/ssh"
)

// brokenConnError reports that a command could not be started because its
// connection is unusable; the command never ran, so it can be retried on a
// new connection.
type brokenConnError struct{ err error }

func (e *brokenConnError) Error() string { return "connection unusable: " + e.err.Error() }
func (e *brokenConnError) Unwrap() error { return e.err }

// runOn runs req as a new session on c, holding one of c's session slots
// for the session's life.
func (s *SSH) runOn(ctx context.Context, c *conn, req Request) (int, error) {
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return -1, fmt.Errorf("waiting for a session: %w", ctx.Err())
	case <-c.dead:
		return -1, &brokenConnError{errors.New("connection closed")}
	}
	release := func() { <-c.sessions }

	sess, err := s.openSession(ctx, c)
	if err != nil {
		release()
		return -1, err
	}
	out := newOutputs(req.Stdout, req.Stderr)
	defer out.detach()
	sess.Stdin = req.Stdin
	sess.Stdout = out.stdout
	sess.Stderr = out.stderr
	if err := sess.Start(req.Script); err != nil {
		sess.Close()
		release()
		if isClosed(c.dead) {
			return -1, &brokenConnError{err}
		}
		return -1, fmt.Errorf("starting command: %w", err)
	}

	done := make(chan error, 1)
	go func() {
		err := sess.Wait()
		sess.Close()
		release()
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		select {
		case err = <-done: // finished anyway: report what happened
			return s.finish(err, c, out)
		default:
		}
		_ = sess.Signal(ssh.SIGINT)
		_ = sess.Close()
		select {
		case <-done:
		case <-time.After(cancelDrain):
		}
		return -1, fmt.Errorf("command cancelled: %w", ctx.Err())
	}

	return s.finish(err, c, out)
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
		sess, err := c.client.NewSession()
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

// finish turns a finished session's Wait result into Run's result.
func (s *SSH) finish(werr error, c *conn, out outputs) (int, error) {
	status, err := waitStatus(werr, c)
	if err != nil {
		return -1, err
	}
	out.detach()
	if err := out.err(); err != nil {
		return status, fmt.Errorf("writing command output: %w", err)
	}
	return status, nil
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

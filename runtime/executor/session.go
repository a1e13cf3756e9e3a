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
		defer func() { <-c.sessions }()
		c.sessions <- struct{}{}
	case <-ctx.Done():
		return -1, fmt.Errorf("waiting for a session: %w", ctx.Err())
	case <-c.dead:
		return -1, &brokenConnError{errors.New("connection closed")}
	}
	release := func() {}

	sess, err := c.client.NewSession()
	if err != nil {
		release()
		var rejected *ssh.OpenChannelError
		if errors.As(err, &rejected) {
			return -1, fmt.Errorf("opening session: %w", err)
		}
		return -1, &brokenConnError{err}
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
		_ = sess.Signal(ssh.SIGINT)
		_ = sess.Close()
		select {
		case <-done:
		case <-time.After(cancelDrain):
		}
		return -1, fmt.Errorf("command cancelled: %w", ctx.Err())
	}

	status, err := waitStatus(err, c)
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

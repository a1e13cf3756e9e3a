// Package fakeworld stands in for this machine and every server: a
// transport that runs nothing, records every command with its host, and
// answers each by the rules it was given (else success, no output). The
// stock flows' golden tests and `kamal build test` both run scripts
// against it.
package fakeworld

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/kamal-go/kamal/runtime/executor"
)

// Command is one command the flow ran, in the order it reached the world.
type Command struct {
	Host   string // "" for this machine
	Script string // the exact command line the transport was given
	// Shown is the command as the log shows it, secrets redacted
	// (Request.Logged, else Script through World.Redact).
	Shown string
	Env   []string // the extra environment of a local command
	Dir   string   // the working directory of a local command
}

// Rule answers the commands it matches with an exit status and output.
type Rule struct {
	// Host is the one host the rule answers for: "" matches every host
	// and this machine, Local this machine only.
	Host string
	// Match is a substring of the executed script; Pattern, when set, a
	// regular expression matched against the command as shown instead.
	Match   string
	Pattern *regexp.Regexp
	Status  int
	Stdout  string
	Stderr  string
}

// Local is the Rule.Host of this machine, as logs name it.
const Local = "localhost"

func (r Rule) matches(host string, c Command) bool {
	if r.Host != "" && r.Host != host && !(r.Host == Local && host == "") {
		return false
	}
	if r.Pattern != nil {
		return r.Pattern.MatchString(c.Shown)
	}
	return strings.Contains(c.Script, r.Match)
}

// World is the fake transport (executor.Transport and
// executor.Forwarder). Its methods are safe for concurrent use; rules
// added while commands run apply to the commands that start after.
type World struct {
	// Redact makes the shown form of a command that came without one
	// (nil: shown as executed).
	Redact func(string) string
	// Refuse is a host whose port forwards are refused.
	Refuse string
	// Queries, when set, runs the facts the run reads silently
	// (Request.Query: git queries, whoami, docker's architecture) instead
	// of the world: they are neither recorded nor answered by rules, as
	// Kamal logs none of them.
	Queries executor.Transport

	mu       sync.Mutex
	rules    []Rule
	ran      []Command
	forwards []string
	closed   int
}

// New returns a world answering by rules, the first that matches deciding.
func New(rules ...Rule) *World { return &World{rules: rules} }

// Answer adds r ahead of the existing rules: the latest answer for a
// command decides.
func (w *World) Answer(r Rule) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rules = append([]Rule{r}, w.rules...)
}

// Run records req and answers it; nothing runs (but a query, when
// Queries is set).
func (w *World) Run(ctx context.Context, host string, req executor.Request) (int, error) {
	if req.Query && w.Queries != nil {
		return w.Queries.Run(ctx, host, req)
	}
	c := Command{Host: host, Script: req.Script, Shown: req.Logged, Env: req.Env, Dir: req.Dir}
	if c.Shown == "" {
		c.Shown = req.Script
		if w.Redact != nil {
			c.Shown = w.Redact(req.Script)
		}
	}
	w.mu.Lock()
	w.ran = append(w.ran, c)
	rules := w.rules
	w.mu.Unlock()
	for _, r := range rules {
		if r.matches(host, c) {
			write(req.Stdout, r.Stdout)
			write(req.Stderr, r.Stderr)
			return r.Status, nil
		}
	}
	return 0, nil
}

func write(w io.Writer, s string) {
	if w != nil && s != "" {
		io.WriteString(w, s)
	}
}

// Forward records a forward of host's remote address to local and
// returns its closer; the Refuse host's forward is refused.
func (w *World) Forward(_ context.Context, host, remote, local string) (io.Closer, error) {
	if host == w.Refuse {
		return nil, fmt.Errorf("ssh %s: %w: listening on %s: denied", host, executor.ErrForwardRefused, remote)
	}
	w.mu.Lock()
	w.forwards = append(w.forwards, host+" "+remote+"->"+local)
	w.mu.Unlock()
	return closer(func() {
		w.mu.Lock()
		w.closed++
		w.mu.Unlock()
	}), nil
}

type closer func()

func (c closer) Close() error { c(); return nil }

// Ran returns the commands recorded so far, in order.
func (w *World) Ran() []Command {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Command(nil), w.ran...)
}

// RanOn returns the scripts run on host ("" for this machine), in order.
func (w *World) RanOn(host string) []string {
	var out []string
	for _, c := range w.Ran() {
		if c.Host == host {
			out = append(out, c.Script)
		}
	}
	return out
}

// Reset forgets the commands recorded so far.
func (w *World) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ran = nil
}

// Forwards returns the forwards requested ("HOST REMOTE->LOCAL") and how
// many were closed.
func (w *World) Forwards() (requested []string, closed int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.forwards...), w.closed
}

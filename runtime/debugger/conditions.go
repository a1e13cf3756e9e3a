package debugger

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/kamal-go/kamal/builtins"
	"github.com/kamal-go/kamal/runtime/interp"
)

// Breakpoints that stop only where it matters: a condition evaluated in
// the frame (`FILE:LINE if host == "server2"`), a hit count (`FILE:LINE#3`
// stops at the third hit only; DAP's hitCondition also takes ">N", ">=N"
// and "%N"), and DAP's logpoints, which print a message instead of
// stopping. A hit is a run of the breakpoint's statement, by any thread,
// for which the condition (if any) holds.

// breakSpec is a breakpoint as the user wrote it, before it is resolved.
type breakSpec struct {
	file    string
	line    int
	cond    string // "" stops every time
	hitCond string // "" every hit; "N" the Nth only
}

// parseBreakSpec reads FILE:LINE, FILE:LINE#N and FILE:LINE[#N] if EXPR.
func parseBreakSpec(spec string) (breakSpec, error) {
	var b breakSpec
	where, cond, hasCond := strings.Cut(spec, " if ")
	where = strings.TrimSpace(where)
	if hasCond {
		if b.cond = strings.TrimSpace(cond); b.cond == "" {
			return b, fmt.Errorf("%s: nothing after if", spec)
		}
	}
	if at, n, ok := strings.Cut(where, "#"); ok {
		count, err := strconv.Atoi(n)
		if err != nil || count < 1 {
			return b, fmt.Errorf("%s: #%s is not a hit number (#1, #2, ...)", spec, n)
		}
		where, b.hitCond = at, n
	}
	i := strings.LastIndexByte(where, ':')
	if i <= 0 {
		return b, fmt.Errorf("%s: want FILE:LINE, FILE:LINE#N or 'FILE:LINE if EXPR'", spec)
	}
	line, err := strconv.Atoi(where[i+1:])
	if err != nil || line < 1 {
		return b, fmt.Errorf("%s: %q is not a line number", spec, where[i+1:])
	}
	b.file, b.line = where[:i], line
	return b, nil
}

// hitTest turns a hit condition into a test of the hit number: "N" or
// "==N" the Nth hit only, ">N", ">=N", and "%N" every Nth.
func hitTest(cond string) (func(n int64) bool, error) {
	cond = strings.TrimSpace(cond)
	if cond == "" {
		return nil, nil
	}
	op := strings.TrimRight(cond, "0123456789 ")
	n, err := strconv.ParseInt(strings.TrimSpace(cond[len(op):]), 10, 64)
	if err != nil || n < 1 {
		return nil, fmt.Errorf("hit condition %q: want N, ==N, >N, >=N or %%N with N a positive number", cond)
	}
	switch strings.TrimSpace(op) {
	case "", "==", "=":
		return func(h int64) bool { return h == n }, nil
	case ">":
		return func(h int64) bool { return h > n }, nil
	case ">=":
		return func(h int64) bool { return h >= n }, nil
	case "%":
		return func(h int64) bool { return h%n == 0 }, nil
	}
	return nil, fmt.Errorf("hit condition %q: want N, ==N, >N, >=N or %%N", cond)
}

// newBreak resolves spec and sets its condition, hit condition and log
// message (DAP's logpoint: printed instead of stopping).
func (d *Debugger) newBreak(spec breakSpec, logMessage string) (*breakLine, error) {
	b, err := d.resolveBreak(spec.file, spec.line)
	if err != nil {
		return nil, err
	}
	if spec.cond != "" {
		opts := interp.FileOptions()
		if _, err := opts.ParseExpr("<condition>", spec.cond, 0); err != nil {
			return nil, fmt.Errorf("condition %s: %v", spec.cond, err)
		}
		b.cond = spec.cond
	}
	if b.hitOK, err = hitTest(spec.hitCond); err != nil {
		return nil, err
	}
	b.hitCond, b.logMessage = spec.hitCond, logMessage
	if logMessage != "" {
		if _, err := splitLogMessage(logMessage); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// describe is the breakpoint as `breakpoints` lists it.
func (b *breakLine) describe() string {
	s := fmt.Sprintf("%d  %s:%d", b.id, b.shown, b.start)
	if b.hitCond != "" {
		if _, err := strconv.Atoi(b.hitCond); err == nil {
			s += "#" + b.hitCond
		} else {
			s += " hit " + b.hitCond
		}
	}
	if b.cond != "" {
		s += " if " + b.cond
	}
	if b.logMessage != "" {
		s += " log " + strconv.Quote(b.logMessage)
	}
	return s + fmt.Sprintf("  (hits %d)", b.hits.Load())
}

// hit decides, at the statement of b in the top frame of t, whether t
// stops there: the condition holds (a condition that fails to evaluate
// stops, saying why) and the hit count passes. A logpoint prints its
// message instead and never stops. It runs on t, in its Starlark turn.
func (d *Debugger) hit(t *starlark.Thread, b *breakLine) (stop bool, reason string) {
	reason = fmt.Sprintf("breakpoint %d", b.id)
	if b.cond != "" {
		v, err := d.evalExpr(t, 0, b.cond, false)
		if err != nil {
			return true, fmt.Sprintf("%s: its condition failed: %s", reason, d.in.State().Log.Scrub(interp.ErrorText(err)))
		}
		if !v.Truth() {
			return false, ""
		}
	}
	n := b.hits.Add(1)
	if b.hitOK != nil && !b.hitOK(n) {
		return false, ""
	}
	if b.logMessage != "" {
		d.logpoint(t, b)
		return false, ""
	}
	return true, reason
}

// evalExpr evaluates src in the scope of frame sel of t, on a thread of
// its own: in t's turn at the run's Starlark lock while t runs (a
// condition, a logpoint), or taking that turn, as the prompt's statements
// do, when t is stopped (its turn given up).
func (d *Debugger) evalExpr(t *starlark.Thread, sel int, src string, stopped bool) (starlark.Value, error) {
	opts := interp.FileOptions()
	expr, err := opts.ParseExpr("<expression>", src, 0)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(builtins.Context(t))
	defer cancel()
	et := d.in.Thread(ctx, t.Name)
	if stopped {
		release := builtins.HoldLike(t, et)
		defer release()
	}
	return starlark.EvalExprOptions(&opts, et, expr, d.scope(t, sel))
}

// splitLogMessage splits a logpoint's message into text and {expr}
// parts (odd indexes are expressions); {{ and }} are literal braces.
func splitLogMessage(msg string) ([]string, error) {
	var parts []string
	var text strings.Builder
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		switch {
		case c == '{' && i+1 < len(msg) && msg[i+1] == '{', c == '}' && i+1 < len(msg) && msg[i+1] == '}':
			text.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(msg[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("log message %q: { without }", msg)
			}
			expr := msg[i+1 : i+end]
			opts := interp.FileOptions()
			if _, err := opts.ParseExpr("<log message>", expr, 0); err != nil {
				return nil, fmt.Errorf("log message %q: {%s}: %v", msg, expr, err)
			}
			parts = append(parts, text.String(), expr)
			text.Reset()
			i += end
		default:
			text.WriteByte(c)
		}
	}
	return append(parts, text.String()), nil
}

// logpoint prints b's message with each {expr} evaluated in t's frame
// (a string as itself, anything else as str() shows it).
func (d *Debugger) logpoint(t *starlark.Thread, b *breakLine) {
	parts, _ := splitLogMessage(b.logMessage)
	var out strings.Builder
	for i, p := range parts {
		if i%2 == 0 {
			out.WriteString(p)
			continue
		}
		v, err := d.evalExpr(t, 0, p, false)
		switch {
		case err != nil:
			out.WriteString("<" + interp.ErrorText(err) + ">")
		default:
			if s, ok := starlark.AsString(v); ok {
				out.WriteString(s)
			} else {
				out.WriteString(v.String())
			}
		}
	}
	msg := d.in.State().Log.Scrub(out.String())
	if s := d.dap; s != nil {
		s.output(t, b, msg)
		return
	}
	d.in.State().Log.Say(msg, "")
}

// clearBreaks removes breakpoint id (0: all) and reports whether it was.
func (d *Debugger) clearBreaks(id int) bool {
	found := false
	d.setBreaks(func(old []*breakLine) []*breakLine {
		keep := old[:0]
		for _, b := range old {
			if id != 0 && b.id != id {
				keep = append(keep, b)
			} else {
				found = true
			}
		}
		return keep
	})
	return found
}

// promptBreak runs the prompt's break, clear and breakpoints commands
// (handled: whether line was one of them) and returns what to print.
func (d *Debugger) promptBreak(line string) (out string, handled bool) {
	word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	rest = strings.TrimSpace(rest)
	switch {
	case word == "break" && rest != "":
		spec, err := parseBreakSpec(rest)
		if err != nil {
			return "break " + err.Error() + "\n", true
		}
		b, err := d.newBreak(spec, "")
		if err != nil {
			return "break " + rest + ": " + err.Error() + "\n", true
		}
		d.setBreaks(func(old []*breakLine) []*breakLine { return append(old, b) })
		return "breakpoint " + b.describe() + "\n", true
	case word == "clear" && rest == "":
		d.clearBreaks(0)
		return "all breakpoints cleared\n", true
	case word == "clear":
		id, err := strconv.Atoi(rest)
		if err != nil || !d.clearBreaks(id) {
			return "clear: no breakpoint " + rest + " (breakpoints lists them)\n", true
		}
		return "breakpoint " + rest + " cleared\n", true
	case word == "breakpoints" && rest == "":
		list := d.breakList()
		if len(list) == 0 {
			return "no breakpoints\n", true
		}
		var s strings.Builder
		for _, b := range list {
			s.WriteString(b.describe() + "\n")
		}
		return s.String(), true
	}
	return "", false
}

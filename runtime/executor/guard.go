package executor

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// Guard says whether the code owning a context holds a lock under which
// nothing may wait: the run's Starlark lock, which the threads of on()
// take turns at (builtins). A thread that started a process, a port
// forward or a prompt while holding it would keep every other host
// waiting, so the transports refuse to (see Refuse).
//
// One Guard belongs to one thread; Set is called from that thread's
// goroutine, Held may be called from any.
type Guard struct{ held atomic.Bool }

// Set records whether the owner holds the lock now.
func (g *Guard) Set(held bool) { g.held.Store(held) }

// Held reports whether the owner holds the lock now.
func (g *Guard) Held() bool { return g.held.Load() }

type guardKey struct{}

// WithGuard returns a context carrying g; a guard set on a context hides
// the one of its parent.
func WithGuard(ctx context.Context, g *Guard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

// GuardOf returns the guard ctx carries, or nil.
func GuardOf(ctx context.Context) *Guard {
	g, _ := ctx.Value(guardKey{}).(*Guard)
	return g
}

// ErrLockHeld is wrapped by Refuse's error.
var ErrLockHeld = errors.New("the calling Starlark thread holds the run's Starlark lock: a builtin that waits must be registered with Waits (builtins/api.go)")

// Refuse returns an error naming what (a process, a port forward, a
// prompt) when ctx's guard is held, nil otherwise. Every transport calls
// it before it starts anything.
func Refuse(ctx context.Context, what string) error {
	if g := GuardOf(ctx); g != nil && g.Held() {
		return fmt.Errorf("refusing to start %s: %w", what, ErrLockHeld)
	}
	return nil
}

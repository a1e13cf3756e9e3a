package builtins

import (
	"context"
	"time"
)

// detached returns a context that keeps parent's values but not its
// cancellation, bounded by a short timeout: for clean-up (releasing the
// deploy lock) that must run after an interrupt.
func detached(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
}

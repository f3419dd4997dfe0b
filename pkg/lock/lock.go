// Package lock keeps two runs from changing one stack at the same time. The
// command layer takes the lock around `up` and `down` through Locker, so that
// `plan` never takes it and tests can swap it.
package lock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Holder is who holds a lock and since when.
type Holder struct {
	Identity string
	// Since is when the holder took the lock; Renewed when it last said it
	// is still working. The lock expires Duration after Renewed.
	Since, Renewed time.Time
	Duration       time.Duration
}

// Expired reports whether the holder stopped renewing long enough ago for
// its lock to be taken over.
func (h Holder) Expired(now time.Time) bool {
	return h.Identity == "" || !now.Before(h.Renewed.Add(h.Duration))
}

// Locker takes, inspects and breaks the lock of one stack.
type Locker interface {
	// Acquire takes the lock. When another run holds it, Acquire waits up
	// to wait for it to be released or to expire, then returns *HeldError.
	Acquire(ctx context.Context, wait time.Duration) (Held, error)
	// Holder returns the current holder, or nil when nobody holds the lock.
	Holder(ctx context.Context) (*Holder, error)
	// Break releases the lock whoever holds it (`nekoctl unlock`).
	Break(ctx context.Context) error
	// Describe names where the lock lives, for messages.
	Describe() string
}

// Held is a lock this run holds; it is renewed until released.
type Held interface {
	// Lost is closed when the lock could not be renewed: the run must stop
	// scheduling changes.
	Lost() <-chan struct{}
	// Release gives the lock up and waits, within ctx, for that to be written.
	Release(ctx context.Context) error
}

// HeldError says another run holds the lock.
type HeldError struct {
	Holder Holder
	Lock   string // where the lock lives
	Waited time.Duration
}

func (e *HeldError) Error() string {
	waited := ""
	if e.Waited > 0 {
		waited = fmt.Sprintf(" (waited %s)", e.Waited.Round(time.Second))
	}
	return fmt.Sprintf("the stack is locked by %s since %s%s (lease %s); "+
		"wait with --lock-timeout 5m, or break a stale lock with 'nekoctl unlock'",
		e.Holder.Identity, e.Holder.Since.UTC().Format(time.RFC3339), waited, e.Lock)
}

// ErrLost is the cause of a run's cancellation when its lock was lost.
var ErrLost = errors.New("the stack lock could not be renewed")

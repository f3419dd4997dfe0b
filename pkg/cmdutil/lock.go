package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/lock"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// LockOptions are the lock flags of the commands that change the stack.
type LockOptions struct {
	Enabled bool          // --lock
	Timeout time.Duration // --lock-timeout
	Lease   time.Duration // --lock-lease (hidden): how long a killed holder's lock outlives it
}

// LockerFunc returns the lock of a validated stack; lease 0 is the default.
type LockerFunc func(st *spec.Stack, lease time.Duration) (lock.Locker, error)

// AddLockFlags registers --lock, --lock-timeout and the hidden --lock-lease.
func AddLockFlags(cmd *cobra.Command, o *LockOptions) {
	fl := cmd.Flags()
	fl.BoolVar(&o.Enabled, "lock", true, "hold the stack lock while changing anything (--lock=false: break-glass only)")
	fl.DurationVar(&o.Timeout, "lock-timeout", 0, "wait this long for another run's lock (e.g. 5m) instead of refusing at once")
	fl.DurationVar(&o.Lease, "lock-lease", 0, "how long the lock outlives a killed run (default 15s)")
	_ = fl.MarkHidden("lock-lease")
}

// TakeLock holds the stack's lock for the rest of a run. The returned context
// is cancelled with lock.ErrLost if the lock cannot be renewed; release gives
// the lock up. With --lock=false it says that nothing protects the run.
func (f *Factory) TakeLock(ctx context.Context, st *spec.Stack, o LockOptions) (context.Context, func(), error) {
	if !o.Enabled {
		fmt.Fprintln(f.IOStreams.ErrOut, "Warning: running without the stack lock (--lock=false, break-glass use): "+
			"another run may change the stack at the same time.")
		return ctx, func() {}, nil
	}
	if f.Locker == nil {
		return nil, nil, fmt.Errorf("no stack lock is configured")
	}
	locker, err := f.Locker(st, o.Lease)
	if err == nil {
		var held lock.Held
		if held, err = locker.Acquire(ctx, o.Timeout); err == nil {
			return f.whileHeld(ctx, held)
		}
	}
	return nil, nil, fmt.Errorf("taking the stack lock: %w\n"+
		"(--lock=false runs without the lock, for break-glass use only)", err)
}

func (f *Factory) whileHeld(ctx context.Context, held lock.Held) (context.Context, func(), error) {
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		select {
		case <-held.Lost():
			cancel(lock.ErrLost)
		case <-ctx.Done():
		}
	}()
	release := func() {
		defer cancel(nil)
		if errors.Is(context.Cause(ctx), ErrAborted) {
			// Aborted at once: the lease expires on its own.
			fmt.Fprintln(f.IOStreams.ErrOut, "The stack lock was not released (aborted): it expires on its own.")
			return
		}
		// An interrupted run releases it: the calls in flight finished.
		rctx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer done()
		if err := held.Release(rctx); err != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "Warning: %v\n", err)
		}
	}
	return ctx, release, nil
}

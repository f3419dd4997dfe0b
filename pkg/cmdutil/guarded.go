package cmdutil

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// GuardOptions are the flags of a command that changes the stack outside
// `up` (failover, drill, restore, rollback): --yes and the lock flags.
type GuardOptions struct {
	Yes  bool
	Lock LockOptions
}

// AddGuardFlags registers --yes and the lock flags.
func AddGuardFlags(cmd *cobra.Command, o *GuardOptions, what string) {
	cmd.Flags().BoolVarP(&o.Yes, "yes", "y", false, what+" without asking (required when not on a terminal)")
	AddLockFlags(cmd, &o.Lock)
}

// Guarded is the shape of every command that changes the stack outside
// `up`: it takes the stack's lock, shows what it will do (show reports
// whether there is anything to do), asks, and only then runs, still under
// the lock. Building clients and checking credentials come before, so that
// a missing credential is reported without taking the lock. The lock is
// held from before show reads the live state, so what runs is what was shown.
func (f *Factory) Guarded(ctx context.Context, st *spec.Stack, o GuardOptions, question string,
	show func(context.Context) (bool, error), run func(context.Context) error) error {
	ctx, release, err := f.TakeLock(ctx, st, o.Lock)
	if err != nil {
		return err
	}
	defer release()
	todo, err := show(ctx)
	if err != nil || !todo {
		return err
	}
	if err := f.Confirm(o.Yes, question); err != nil {
		return err
	}
	return run(ctx)
}

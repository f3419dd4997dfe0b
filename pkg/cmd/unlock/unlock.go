// Package unlock implements `nekoctl unlock`: break a stale stack lock.
package unlock

import (
	"context"
	"fmt"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
)

// UnlockOptions holds the command's dependencies and flags.
type UnlockOptions struct {
	F    *cmdutil.Factory
	File string
	Yes  bool
}

// NewCmdUnlock builds `unlock`; runF replaces the run function in tests.
func NewCmdUnlock(f *cmdutil.Factory, runF func(*UnlockOptions) error) *cobra.Command {
	opts := &UnlockOptions{F: f}
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Break a stale stack lock",
		Long: heredoc.Doc(`
			Show who holds the stack's lock (the Lease nekoctl-<stack> in the
			kube-system namespace of the primary region's cluster) and, after
			confirmation, release it. Use it when a run was killed and its lock
			has not expired yet, or a holder is known to be gone. Breaking the
			lock of a run that is still working lets two runs change the stack
			at once.
		`),
		Example: heredoc.Doc(`
			$ nekoctl unlock -f nekoctl.yaml
			$ nekoctl unlock -f nekoctl.yaml --yes
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if runF != nil {
				return runF(opts)
			}
			return unlockRun(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "break the lock without asking (required when not on a terminal)")
	return cmd
}

func unlockRun(ctx context.Context, opts *UnlockOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	if f.Locker == nil {
		return fmt.Errorf("no stack lock is configured")
	}
	locker, err := f.Locker(l.Stack, 0)
	if err != nil {
		return err
	}
	h, err := locker.Holder(ctx)
	if err != nil {
		return err
	}
	out := f.IOStreams.Out
	if h == nil {
		fmt.Fprintf(out, "The stack %s is not locked (lease %s).\n", l.Stack.Metadata.Name, locker.Describe())
		return nil
	}
	now := f.Now()
	state := "still renewed: its run may be working"
	if h.Expired(now) {
		state = "expired"
	}
	fmt.Fprintf(out, "The stack %s is locked by %s\n  since %s, last renewed %s ago, %s (lease %s).\n",
		l.Stack.Metadata.Name, h.Identity, h.Since.UTC().Format(time.RFC3339),
		now.Sub(h.Renewed).Round(time.Second), state, locker.Describe())
	if err := f.Confirm(opts.Yes, "Break this lock?"); err != nil {
		return err
	}
	if err := locker.Break(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "The lock is released.")
	return nil
}

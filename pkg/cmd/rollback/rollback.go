// Package rollback implements `nekoctl rollback`: return regions' workload
// to the revision recorded before nekoctl last changed it.
package rollback

import (
	"context"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// RollbackOptions holds the command's dependencies and flags.
type RollbackOptions struct {
	F *cmdutil.Factory
	cmdutil.RunOptions
	Lock    cmdutil.LockOptions
	Regions []string
	Yes     bool
}

// NewCmdRollback builds `rollback`; runF replaces the run function in tests.
func NewCmdRollback(f *cmdutil.Factory, runF func(*RollbackOptions) error) *cobra.Command {
	opts := &RollbackOptions{F: f}
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Return the API Deployments to the revision before the last change",
		Long: heredoc.Doc(`
			Before 'up' changes a region's healthy API Deployment it records the
			revision that runs (image and pod template) on the Deployment. 'rollback'
			shows, per region, the change back to that revision, asks for
			confirmation (or takes --yes), and puts it back, waiting for each
			rollout, while holding the stack's lock as 'up' does.

			Every region by default; --region (repeatable) names some. A region
			already on its recorded revision has nothing to do. The spec is not
			changed: the next 'up' rolls the spec's revision out again.
		`),
		Example: heredoc.Doc(`
			$ nekoctl rollback -f nekoctl.yaml
			$ nekoctl rollback -f nekoctl.yaml --region eu-west --yes
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return rollbackRun(c.Context(), opts)
		},
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmdutil.AddLockFlags(cmd, &opts.Lock)
	cmd.Flags().StringSliceVar(&opts.Regions, "region", nil, "roll back only this region (repeatable; default: every region)")
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "roll back without asking (required when not on a terminal)")
	return cmd
}

func rollbackRun(ctx context.Context, opts *RollbackOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	for _, r := range opts.Regions {
		if l.Stack.Spec.Region(r) == nil {
			return cmdutil.FlagErrorf("--region %q is not a region of the spec", r)
		}
	}
	eng, err := f.Engine(ctx, l.Stack, opts.RunOptions, f.EventSink(opts.Output))
	if err != nil {
		return err
	}
	ctx, unlock, err := f.TakeLock(ctx, l.Stack, opts.Lock)
	if err != nil {
		return err
	}
	defer unlock()
	planned := eng.PlanRollback(ctx, l.Stack.Metadata.Name, opts.Regions)
	to := printer.TextOptions{Color: f.IOStreams.ColorEnabled()}
	if err := plan.Render(f, planned, opts.Output, to, false); err != nil {
		return err
	}
	if !planned.Plan.HasChanges() {
		return nil
	}
	if err := f.Confirm(opts.Yes, "Roll back these regions?"); err != nil {
		return err
	}
	res, err := eng.RollBack(ctx, planned)
	if res != nil {
		n := 0
		for _, c := range planned.Plan.Changes {
			if c.Action != "no-op" {
				n++
			}
		}
		fmt.Fprintf(f.IOStreams.ErrOut, "\nRolled back %d region(s), %d failed.\n", n-len(res.Failed()), len(res.Failed()))
	}
	return err
}

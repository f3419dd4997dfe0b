// Package apply implements `nekoctl up` and `nekoctl down`: plan, confirm,
// then carry out exactly that plan.
package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	plans "github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// ApplyOptions holds the dependencies and flags of up and down.
type ApplyOptions struct {
	F *cmdutil.Factory
	cmdutil.RunOptions
	Lock cmdutil.LockOptions
	Yes  bool
	// NoProgress prints plain lines even on a terminal.
	NoProgress bool
	// PlanFile is the saved plan `up FILE` applies; saved is its content.
	PlanFile string
	saved    *planfile.File
}

// NewCmdUp builds `up`; runF replaces the run function in tests.
func NewCmdUp(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{F: f}
	cmd := &cobra.Command{
		Use:   "up [PLANFILE]",
		Short: "Create or update the whole stack to match the spec",
		Long: heredoc.Doc(`
			Plan as 'nekoctl plan' does, ask for confirmation (or take --yes), then
			apply exactly that plan: Atlas, Cloudflare and every region's
			Kubernetes objects, each change after the changes it depends on.
			Running 'up' again after any interruption converges without duplicates.

			Given a plan file saved by 'nekoctl plan -out FILE', apply exactly that
			plan and nothing else: the planned resources are read again first, and
			the plan is refused, naming each difference, when the spec, the nekoctl
			version or any planned resource changed since (a stale plan). A saved
			destroy plan deletes, as 'down' would.

			--region, --target and --exclude apply part of the plan: the selected
			changes and the changes they need, as 'nekoctl plan --help' describes.

			While it runs, 'up' holds the stack's lock, a Lease in the primary
			region's cluster: another 'up' or 'down' refuses at once, naming the
			holder, or waits with --lock-timeout.
		`),
		Example: heredoc.Doc(`
			$ nekoctl up -f nekoctl.yaml
			$ nekoctl up -f nekoctl.yaml --yes -o json    # CI: no prompt, JSON events on stderr
			$ nekoctl up -f nekoctl.yaml --rotate-db-password
			$ nekoctl plan -f nekoctl.yaml -out plan.out && nekoctl up plan.out
			$ nekoctl up -f nekoctl.yaml --region eu-west      # one region and what it needs
			$ nekoctl up -f nekoctl.yaml --target kubernetes.us-east.Deployment
		`),
		Args: cobra.MaximumNArgs(1),
		RunE: runE(opts, runF),
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmdutil.AddSelectionFlags(cmd, &opts.Select)
	cmdutil.AddLockFlags(cmd, &opts.Lock)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "apply without asking (required when not on a terminal)")
	cmd.Flags().BoolVar(&opts.NoProgress, "no-progress", false, "print progress as plain lines, not the live view, even on a terminal")
	cmd.Flags().BoolVar(&opts.Provider.RotateDBPassword, "rotate-db-password", false, "generate a new database password and roll it out to every region")
	cmd.Flags().BoolVar(&opts.Provider.RotateJWTKey, "rotate-jwt-key", false, "make a new JWT signing key current in every region; the previous one verifies for one token lifetime")
	cmd.Flags().BoolVar(&opts.Provider.Adopt, "adopt", false, "take over live objects that have the stack's identity but no ownership marker")
	return cmd
}

// NewCmdDown builds `down`; runF replaces the run function in tests.
func NewCmdDown(f *cmdutil.Factory, runF func(*ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{F: f}
	opts.Provider.Destroy = true
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete everything the stack owns",
		Long: heredoc.Doc(`
			Delete every remote object that carries this stack's ownership marker,
			dependents first. Objects made by others, in the same zone, project or
			namespace, are never touched. A protected Atlas cluster (termination
			protection, or atlas.cluster.protected in the spec) is kept unless
			--force is given; the plan says so before anything happens.

			'down' holds the stack's lock as 'up' does.
		`),
		Example: heredoc.Doc(`
			$ nekoctl down -f nekoctl.yaml
			$ nekoctl down -f nekoctl.yaml --yes --force   # also delete the protected cluster
			$ nekoctl down -f nekoctl.yaml --region asia-pacific   # only that region's objects
		`),
		Args: cobra.NoArgs,
		RunE: runE(opts, runF),
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmdutil.AddSelectionFlags(cmd, &opts.Select)
	cmdutil.AddLockFlags(cmd, &opts.Lock)
	cmd.Flags().BoolVarP(&opts.Yes, "yes", "y", false, "delete without asking (required when not on a terminal)")
	cmd.Flags().BoolVar(&opts.NoProgress, "no-progress", false, "print progress as plain lines, not the live view, even on a terminal")
	cmd.Flags().BoolVar(&opts.Provider.Force, "force", false, "also delete protected resources")
	cmd.Flags().BoolVar(&opts.Provider.DeleteBackups, "delete-backups", false, "delete the Atlas cluster's backup snapshots with it (kept by default)")
	return cmd
}

// runE is the shared run step of up and down.
func runE(opts *ApplyOptions, runF func(*ApplyOptions) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		if err := cmdutil.CheckOutput(opts.Output); err != nil {
			return err
		}
		if len(args) == 1 {
			if err := opts.usePlanFile(c, args[0]); err != nil {
				return err
			}
		}
		if runF != nil {
			return runF(opts)
		}
		return applyRun(c.Context(), opts)
	}
}

func applyRun(ctx context.Context, opts *ApplyOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckRegions(l.Stack, opts.Select); err != nil {
		return err
	}
	report := f.Reporter(opts.Output, opts.NoProgress)
	defer report.End()
	eng, err := f.Engine(ctx, l.Stack, opts.RunOptions, report.Event)
	if err != nil {
		return err
	}
	if !opts.Provider.Destroy {
		if err := l.CheckDeployableImage(); err != nil {
			return err
		}
	}
	// Missing credentials are reported before the lock is taken. The lock is
	// held from before the live state is read until the last change, so that
	// the plan applied is the plan shown.
	ctx, unlock, err := f.TakeLock(ctx, l.Stack, opts.Lock)
	if err != nil {
		return err
	}
	defer unlock()
	planned, err := opts.plan(ctx, eng, l)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckInterrupted(ctx); err != nil {
		return err
	}
	to := printer.TextOptions{Color: f.IOStreams.ColorEnabled(), Compact: true}
	if err := plan.Render(f, planned, opts.Output, to, false); err != nil {
		return err
	}
	if !planned.Plan.HasChanges() {
		return opts.verify(ctx, eng)
	}
	if err := refuseConflicts(planned.Plan); err != nil {
		return err
	}
	question := "Apply these changes?"
	if opts.Provider.Destroy {
		question = "Delete these resources?"
	}
	if err := f.ConfirmContext(ctx, opts.Yes, question); err != nil {
		return err
	}
	report.Begin(planned.Plan)
	res, err := applyInterruptibly(ctx, eng, planned)
	report.End()
	if res != nil {
		summarize(f.IOStreams.ErrOut, eng, res, opts.Output == "json")
	}
	if err != nil {
		return err
	}
	return opts.verify(ctx, eng)
}

// refuseConflicts stops before anything is applied when the plan has changes
// that cannot be applied as planned, naming every one.
func refuseConflicts(p *plans.Plan) error {
	conflicts := p.Conflicts()
	if len(conflicts) == 0 {
		return nil
	}
	lines := make([]string, 0, len(conflicts))
	for _, c := range conflicts {
		lines = append(lines, fmt.Sprintf("  * %s: %s", c.Address, c.Conflict))
	}
	return fmt.Errorf("nothing was applied: %d resource(s) conflict with live objects nekoctl does not own:\n%s\n"+
		"Run again with --adopt to take them over, or remove them.", len(conflicts), strings.Join(lines, "\n"))
}

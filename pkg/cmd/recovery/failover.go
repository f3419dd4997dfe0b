package recovery

import (
	"context"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	plancmd "github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/recovery"
)

// FailoverOptions holds the command's dependencies and flags.
type FailoverOptions struct {
	F      *cmdutil.Factory
	File   string
	Output string
	To     string
	Back   bool
	Guard  cmdutil.GuardOptions
}

// NewCmdFailover builds `failover`; runF replaces the run function in tests.
func NewCmdFailover(f *cmdutil.Factory, runF func(*FailoverOptions) error) *cobra.Command {
	opts := &FailoverOptions{F: f}
	cmd := &cobra.Command{
		Use:   "failover (--to REGION | --back)",
		Short: "Move the primary region: the Atlas primary and the load balancer's default and fallback pools",
		Long: heredoc.Doc(`
			Move the stack's primary to another region without editing the spec:
			the Atlas cluster's election priorities (the region gets the
			primary's priority and the primary its own, so Atlas elects a node
			there) and the load balancer's default pools (that region first),
			fallback pool and the failover order of the geo pools. Nothing else
			is changed. The plan is shown first and the change is made under the
			stack's lock after confirmation; the command returns when Atlas has
			applied the new priorities.

			--back returns to the spec's layout. So does the next 'nekoctl up',
			which plans the spec's priorities and pools: to keep the new primary,
			name it in the spec instead (primary: true on that region, and
			cloudflare.loadBalancer.fallbackRegion if the spec sets it).

			The lock lives in the spec's primary region's cluster; when that
			cluster is unreachable (the region is lost), --lock=false is the
			break-glass way to fail over.
		`),
		Example: heredoc.Doc(`
			$ nekoctl failover -f nekoctl.yaml --to eu-west
			$ nekoctl failover -f nekoctl.yaml --back --yes
			$ nekoctl failover -f nekoctl.yaml --to eu-west --yes --lock=false -o json   # primary region lost
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if (opts.To == "") == !opts.Back {
				return cmdutil.FlagErrorf("give either --to REGION or --back")
			}
			if runF != nil {
				return runF(opts)
			}
			return failoverRun(c.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&opts.To, "to", "", "the region to make primary")
	fl.BoolVar(&opts.Back, "back", false, "return to the spec's primary region")
	cmdutil.AddGuardFlags(cmd, &opts.Guard, "fail over")
	return cmd
}

func failoverRun(ctx context.Context, opts *FailoverOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	layout, primary := l.Stack, l.Stack.Spec.PrimaryRegion().Name
	if opts.To != "" {
		if layout, err = l.Stack.WithPrimary(opts.To); err != nil {
			return cmdutil.FlagErrorf("--to: %v", err)
		}
		primary = opts.To
	}
	events := f.EventSink(opts.Output)
	clients, err := buildClients(ctx, f, layout, events)
	if err != nil {
		return err
	}
	eng := clients.engineOver(f, events)
	var planned *engine.Planned
	show := func(ctx context.Context) (bool, error) {
		planned = eng.Plan(ctx, l.Stack.Metadata.Name, provider.Options{})
		moves, err := recovery.FailoverChanges(planned.Plan)
		if err != nil {
			return false, err
		}
		planned.Plan = moves
		to := printer.TextOptions{Color: f.IOStreams.ColorEnabled(), Compact: true}
		if err := plancmd.Render(f, planned, opts.Output, to, false); err != nil {
			return false, err
		}
		if !moves.HasChanges() && opts.Output == "text" {
			fmt.Fprintf(f.IOStreams.Out, "\n%s already holds the Atlas priority and the load balancer's pools of the primary.\n", primary)
		}
		return moves.HasChanges(), nil
	}
	run := func(ctx context.Context) error {
		res, err := eng.Apply(ctx, planned)
		if res != nil {
			fmt.Fprintf(f.IOStreams.ErrOut, "\nApplied %d change(s), %d failed, %d skipped.\n",
				len(res.Outcomes)-len(res.Failed())-len(res.Skipped()), len(res.Failed()), len(res.Skipped()))
		}
		if err != nil {
			return err
		}
		if opts.Output == "text" {
			fmt.Fprintf(f.IOStreams.Out, "\nThe primary is now %s.\n", primary)
			if opts.To != "" && opts.To != l.Stack.Spec.PrimaryRegion().Name {
				fmt.Fprintf(f.IOStreams.Out, "'nekoctl failover --back' or the next 'nekoctl up' returns it to %s; "+
					"to keep it, set primary: true on %s in %s.\n", l.Stack.Spec.PrimaryRegion().Name, opts.To, opts.File)
			}
		}
		return nil
	}
	return f.Guarded(ctx, l.Stack, opts.Guard, fmt.Sprintf("Make %s the primary region?", primary), show, run)
}

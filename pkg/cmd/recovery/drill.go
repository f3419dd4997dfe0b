package recovery

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/recovery"
)

// DrillOptions holds the flags of `drill region-loss` and `drill pod-loss`.
type DrillOptions struct {
	F        *cmdutil.Factory
	File     string
	Output   string
	Region   string
	Database bool
	Poll     time.Duration
	Timeout  time.Duration
	Guard    cmdutil.GuardOptions
	// Kind is the subcommand: region-loss or pod-loss.
	Kind string
}

// NewCmdDrill builds `drill` and its subcommands; runF replaces the run
// function in tests.
func NewCmdDrill(f *cmdutil.Factory, runF func(*DrillOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill <region-loss|pod-loss>",
		Short: "Rehearse a failure on the live stack and measure the recovery time",
		Long: heredoc.Doc(`
			Inject a failure into the live stack, measure how long the stack takes to
			recover, undo what the drill changed, and report the measured recovery
			time against the recovery objectives table (single pod, node, zone,
			region, complete disaster; see docs/recovery.md).

			A drill shows what it will do, asks, and runs under the stack's lock.
		`),
		Example: heredoc.Doc(`
			$ nekoctl drill region-loss -f nekoctl.yaml --region eu-west
			$ nekoctl drill region-loss -f nekoctl.yaml --region eu-west --database --yes -o markdown >> drills.md
			$ nekoctl drill pod-loss -f nekoctl.yaml --region us-east --yes -o json
		`),
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		drillCmd(f, runF, "region-loss", "Disable a region's load balancer pool (and test the Atlas failover) and measure until traffic is served again",
			heredoc.Doc(`
				Disable the region's origin pool in the load balancer, as if the region
				were lost, and with --database also start Atlas's primary failover test
				(restartPrimaries: the primary steps down and another node is elected).
				Then watch until every other enabled pool is healthy with the region's
				pool out of rotation, and the cluster is IDLE again: the later of the two
				is the measured recovery time, held to the region RTO. Finally enable
				the pool again and wait for it to be healthy. The pool is enabled again
				on every way out: success, failure, timeout and Ctrl-C.

				The drill refuses to start when no other region's pool is enabled and
				healthy, since disabling the region would then take the API down.
			`)),
		drillCmd(f, runF, "pod-loss", "Delete one API pod of a region and measure until its replacement is ready",
			heredoc.Doc(`
				Delete one ready pod of the region's API Deployment and measure until
				the Deployment has as many ready pods as it wants again (the deleted one
				not counted): the readiness recovery, held to the single-pod RTO. The
				ReplicaSet replaces the pod; the drill changes nothing else.
			`)),
	)
	return cmd
}

func drillCmd(f *cmdutil.Factory, runF func(*DrillOptions) error, kind, short, long string) *cobra.Command {
	opts := &DrillOptions{F: f, Kind: kind}
	cmd := &cobra.Command{
		Use:   kind,
		Short: short,
		Long:  long,
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Output != "text" && opts.Output != "json" && opts.Output != "markdown" {
				return cmdutil.FlagErrorf("--output must be text, json or markdown, not %q", opts.Output)
			}
			if opts.Region == "" {
				return cmdutil.FlagErrorf("--region is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return drillRun(c.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	fl.StringVarP(&opts.Output, "output", "o", "text", "report format: text, json or markdown")
	fl.StringVar(&opts.Region, "region", "", "the region to fail (required)")
	if kind == "region-loss" {
		fl.BoolVar(&opts.Database, "database", false, "also run Atlas's primary failover test (restartPrimaries)")
	}
	fl.DurationVar(&opts.Timeout, "timeout", 0, "give up waiting for recovery after this long (default twice the objective)")
	fl.DurationVar(&opts.Poll, "poll", 2*time.Second, "pause between two looks at the stack")
	_ = fl.MarkHidden("poll")
	cmdutil.AddGuardFlags(cmd, &opts.Guard, "run the drill")
	return cmd
}

func drillRun(ctx context.Context, opts *DrillOptions) error {
	f := opts.F
	l, err := f.LoadStack(opts.File)
	if err != nil {
		return err
	}
	if l.Stack.Spec.Region(opts.Region) == nil {
		return cmdutil.FlagErrorf("--region: %q is not a region of this spec", opts.Region)
	}
	events := f.EventSink(opts.Output)
	clients, err := buildClients(ctx, f, l.Stack, events)
	if err != nil {
		return err
	}
	// The description goes where the report does not, so -o json stays one document.
	w := f.IOStreams.Out
	if opts.Output != "text" {
		w = f.IOStreams.ErrOut
	}
	d := &recovery.Drill{Now: f.Now, Events: events, Poll: opts.Poll, Timeout: opts.Timeout}
	var rep *recovery.Report
	var show func(context.Context) (bool, error)
	var run func(context.Context) error
	switch opts.Kind {
	case "region-loss":
		show = func(ctx context.Context) (bool, error) {
			states, err := recovery.CheckRegionLoss(ctx, clients.cf, opts.Region)
			if err != nil {
				return false, err
			}
			fmt.Fprintf(w, "Drill region-loss in %s:\n", opts.Region)
			for _, s := range states {
				fmt.Fprintf(w, "  pool %-16s enabled=%-5v healthy=%v\n", s.Region, s.Enabled, s.Healthy)
			}
			fmt.Fprintf(w, "  1. disable the load balancer pool of %s\n", opts.Region)
			if opts.Database {
				fmt.Fprintf(w, "  2. run Atlas's primary failover test on cluster %s\n", l.Stack.Spec.Atlas.Cluster.Name)
			}
			fmt.Fprintf(w, "  then watch until traffic and the database are healthy, and enable the pool again (also on error and Ctrl-C)\n")
			return true, nil
		}
		run = func(ctx context.Context) error {
			var db recovery.Database
			if opts.Database {
				db = clients.atlas
			}
			rep, err = d.RegionLoss(ctx, clients.cf, db, opts.Region)
			return err
		}
	default:
		kube, err := clients.region(opts.Region)
		if err != nil {
			return err
		}
		show = func(ctx context.Context) (bool, error) {
			ready, want, err := kube.APIReadiness(ctx, "")
			if err != nil {
				return false, err
			}
			fmt.Fprintf(w, "Drill pod-loss in %s: %d of %d API pods ready.\n  delete one ready API pod and watch until %d are ready again\n",
				opts.Region, ready, want, want)
			return true, nil
		}
		run = func(ctx context.Context) error {
			rep, err = d.PodLoss(ctx, kube, opts.Region)
			return err
		}
	}
	err = f.Guarded(ctx, l.Stack, opts.Guard, "Run this drill on the live stack?", show, run)
	if rep != nil {
		if perr := printReport(f.IOStreams.Out, rep, opts.Output); perr != nil {
			return perr
		}
	}
	if err == nil && rep != nil && !rep.Met {
		return cmdutil.ErrSilent // the report says the objective was missed
	}
	return err
}

func printReport(w io.Writer, rep *recovery.Report, output string) error {
	switch output {
	case "json":
		return rep.JSON(w)
	case "markdown":
		return rep.Markdown(w)
	}
	return rep.Text(w)
}

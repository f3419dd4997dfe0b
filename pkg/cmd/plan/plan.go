// Package plan implements `nekoctl plan`.
package plan

import (
	"context"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/cost"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// PlanOptions holds the command's dependencies and flags.
type PlanOptions struct {
	F *cmdutil.Factory
	cmdutil.RunOptions
	DetailedExitCode bool
	ShowUnchanged    bool
	Compact          bool
	// Out is where `-out FILE` saves the plan for `up FILE`.
	Out string
}

// NewCmdPlan builds `plan`; runF replaces the run function in tests.
func NewCmdPlan(f *cmdutil.Factory, runF func(*PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{F: f}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what `up` would change, without changing anything",
		Long: heredoc.Doc(`
			Validate the spec, read the live state of everything the stack owns in
			Cloudflare, Atlas and every region's Kubernetes cluster, and show the
			changes that 'nekoctl up' would make. Secrets are always masked.

			With --offline no service is contacted and every resource is shown as
			a create: the complete stack the spec describes.

			--region, --target and --exclude make the plan partial: it holds only
			the selected changes and the changes they need, each of those saying
			which change pulled it in; deletes outside the selection are never
			planned. An ADDRESS is one the plan prints, in full
			(kubernetes[region/us-east].Deployment["neko-defense/neko-api"]) or
			short (kubernetes.us-east.Deployment.neko-defense/neko-api), without
			regard to case; '*' matches any characters, and an address cut after
			any part selects everything under it (kubernetes.us-east.Deployment,
			cloudflare.*.pool, atlas).
		`),
		Example: heredoc.Doc(`
			$ nekoctl plan -f examples/global.yaml --offline
			$ nekoctl plan -f nekoctl.yaml -o json > plan.json
			$ nekoctl plan -f nekoctl.yaml --detailed-exitcode   # 0 no changes, 1 error, 2 changes
			$ nekoctl plan -f nekoctl.yaml --destroy             # what 'down' would delete
			$ nekoctl plan -f nekoctl.yaml --region eu-west      # one region and what it needs
			$ nekoctl plan -f nekoctl.yaml --target kubernetes.us-east.Deployment --exclude atlas
			$ nekoctl plan -f nekoctl.yaml -out plan.out -o markdown > plan.md   # CI: save, then 'nekoctl up plan.out'
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Output != "markdown" {
				if err := cmdutil.CheckOutput(opts.Output); err != nil {
					return cmdutil.FlagErrorf("--output must be text, json or markdown, not %q", opts.Output)
				}
			}
			if opts.Out != "" && opts.Provider.Offline {
				return cmdutil.FlagErrorf("--out cannot be used with --offline: an offline plan was read against nothing and cannot be applied")
			}
			if runF != nil {
				return runF(opts)
			}
			return planRun(c.Context(), opts)
		},
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmdutil.AddSelectionFlags(cmd, &opts.Select)
	fl := cmd.Flags()
	fl.BoolVar(&opts.Provider.Offline, "offline", false, "plan without contacting any service: everything is a create")
	fl.BoolVar(&opts.Provider.Destroy, "destroy", false, "plan the removal of everything the stack owns, as 'down' would")
	fl.BoolVar(&opts.Provider.Force, "force", false, "with --destroy: include protected resources")
	fl.BoolVar(&opts.Provider.DeleteBackups, "delete-backups", false, "with --destroy: delete the Atlas cluster's backup snapshots with it")
	fl.BoolVar(&opts.Provider.RotateDBPassword, "rotate-db-password", false, "plan a new database password")
	fl.BoolVar(&opts.Provider.RotateJWTKey, "rotate-jwt-key", false, "plan a new current JWT signing key")
	fl.BoolVar(&opts.Provider.Adopt, "adopt", false, "plan to take over live objects that have the stack's identity but no ownership marker")
	fl.BoolVar(&opts.DetailedExitCode, "detailed-exitcode", false, "exit 0 when there are no changes, 1 on error, 2 when changes are present")
	fl.BoolVar(&opts.ShowUnchanged, "show-unchanged", false, "list resources that need no change too")
	fl.BoolVar(&opts.Compact, "compact", false, "do not list the fields of resources to create")
	fl.StringVar(&opts.Out, "out", "", "save the plan to this file for 'nekoctl up FILE' (also spelled -out FILE)")
	cmd.Flags().Lookup("output").Usage = "output format: text, json or markdown"
	return cmd
}

func planRun(ctx context.Context, opts *PlanOptions) error {
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	if err := cmdutil.CheckRegions(l.Stack, opts.Select); err != nil {
		return err
	}
	eng, err := opts.F.Engine(ctx, l.Stack, opts.RunOptions, opts.F.EventSink(opts.Output))
	if err != nil {
		return err
	}
	if !opts.Provider.Offline && !opts.Provider.Destroy {
		if err := l.CheckDeployableImage(); err != nil {
			return err
		}
	}
	planned, err := eng.PlanSelected(ctx, l.Stack.Metadata.Name, opts.Provider, opts.Select)
	if err != nil {
		return err
	}
	if opts.Output == "markdown" {
		// A pull-request comment is read without the terminal's stderr.
		planned.Plan.Diagnostics = append(SpecWarnings(l), planned.Plan.Diagnostics...)
	}
	err = Render(opts.F, planned, opts.Output, printer.TextOptions{
		Color: opts.F.IOStreams.ColorEnabled(), ShowUnchanged: opts.ShowUnchanged, Compact: opts.Compact,
	}, opts.DetailedExitCode)
	if p := planned.Plan; opts.Output != "json" && p.HasChanges() && !p.HasErrors() {
		line := cost.PlanSummary(l.Stack, p)
		if opts.Output == "markdown" {
			line = "\n" + line // its own paragraph, not part of a quote above
		}
		fmt.Fprintln(opts.F.IOStreams.Out, line)
	}
	if opts.Out != "" {
		if serr := save(opts, l, planned.Plan); serr != nil {
			return serr
		}
	}
	return err
}

// Render prints a plan and maps it to the exit code: 1 when any provider
// failed to plan, 2 with detailedExitCode when changes are present.
func Render(f *cmdutil.Factory, planned *engine.Planned, output string, to printer.TextOptions, detailedExitCode bool) error {
	p := planned.Plan
	var err error
	switch output {
	case "json":
		err = printer.PlanJSON(f.IOStreams.Out, p)
	case "markdown":
		err = printer.PlanMarkdown(f.IOStreams.Out, p, printer.MarkdownOptions{})
	default:
		err = printer.PlanText(f.IOStreams.Out, p, to)
	}
	switch {
	case err != nil:
		return err
	case p.HasErrors():
		return cmdutil.ErrSilent
	case detailedExitCode && p.HasChanges():
		return &cmdutil.ExitCodeError{Code: cmdutil.ExitChanges}
	}
	return nil
}

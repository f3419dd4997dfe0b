// Package validate implements `nekoctl validate`.
package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// ValidateOptions holds the command's dependencies and flags.
type ValidateOptions struct {
	F      *cmdutil.Factory
	File   string
	Output string
	// Online also reads the stack's Cloudflare zone with the credentials,
	// and the clusters' discovery when spec.monitoring.install is off.
	Online bool
}

// NewCmdValidate builds `validate`; runF replaces the run function in tests.
func NewCmdValidate(f *cmdutil.Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{F: f}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a spec file; with --online, also the Cloudflare zone and the clusters it names",
		Long: heredoc.Doc(`
			Parse the spec, fill in defaults and check every field and cross-field
			rule. All problems are reported together, each with file:line:column
			and the field path. Nothing remote is contacted.

			With --online, the spec's Cloudflare zone is also read with the
			credentials (CLOUDFLARE_API_TOKEN; one API call): its status, plan
			tier, name servers and account are reported, and the command fails
			when the zone is not found, belongs to another account than
			spec.cloudflare.accountID, or serves no traffic yet (pending at the
			registrar: the error names the name servers to set there).

			With --online and spec.monitoring.install false, every region's
			cluster is also asked (discovery only) whether it serves the
			Prometheus Operator's CRDs the stack's monitoring objects need: a
			region that lacks any gets one warning naming them.
		`),
		Example: heredoc.Doc(`
			$ nekoctl validate -f examples/global.yaml
			$ nekoctl validate -f nekoctl.yaml -o json | jq .valid
			$ nekoctl validate -f nekoctl.yaml --online
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return validateRun(c.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&opts.Online, "online", false, "also read the Cloudflare zone's status, plan tier, name servers and account, and check the clusters for the monitoring CRDs")
	return cmd
}

func validateRun(ctx context.Context, opts *ValidateOptions) error {
	io := opts.F.IOStreams
	var l *spec.Loaded
	var err error
	if opts.Output == "json" {
		l, err = spec.Load(opts.File)
	} else {
		l, err = opts.F.LoadStack(opts.File)
	}
	var ve *spec.ValidationError
	if err != nil && (opts.Output != "json" || !errors.As(err, &ve)) {
		return err
	}
	diags := l.Diagnostics
	var zone *cloudflare.ZoneInfo
	if opts.Online && !diags.HasErrors() {
		var zd spec.Diagnostics
		zone, zd = readZone(ctx, opts, l.Stack)
		zd = append(zd, readMonitoringCRDs(ctx, opts, l.Stack)...)
		diags = append(diags, zd...)
		if opts.Output != "json" {
			_ = printer.DiagnosticsText(io.ErrOut, zd, io.ErrColorEnabled())
		}
	}
	if opts.Output == "json" {
		var z any // a nil *ZoneInfo would print as null
		if zone != nil {
			z = zone
		}
		if err := printer.ValidationJSON(io.Out, opts.File, diags, z); err != nil {
			return err
		}
		if diags.HasErrors() {
			return cmdutil.ErrSilent
		}
		return nil
	}
	for _, d := range l.Diagnostics {
		if d.Severity == spec.Info {
			fmt.Fprintln(io.ErrOut, d.String())
		}
	}
	if zone != nil && zone.ID != "" {
		fmt.Fprintln(io.Out, zoneLine(zone))
	}
	if diags.HasErrors() {
		return cmdutil.ErrSilent
	}
	fmt.Fprintf(io.Out, "%s: valid stack %q with %d region(s)\n", opts.File, l.Stack.Metadata.Name, len(l.Stack.Spec.Regions))
	return nil
}

// readZone reads the stack's zone and turns what stands in the way of
// building on it into diagnostics of the spec fields involved.
func readZone(ctx context.Context, opts *ValidateOptions, st *spec.Stack) (*cloudflare.ZoneInfo, spec.Diagnostics) {
	diag := func(sev spec.Severity, path, msg string) spec.Diagnostic {
		return spec.Diagnostic{Severity: sev, File: opts.File, Path: path, Message: msg}
	}
	info, err := opts.F.CloudflareZone(ctx, st)
	var out spec.Diagnostics
	if err != nil {
		out = append(out, diag(spec.Error, "spec.cloudflare.zone", err.Error()))
	}
	if info.ID == "" {
		return nil, out
	}
	if want := strings.ToLower(st.Spec.Cloudflare.Plan); info.Plan != "" && want != info.Plan {
		out = append(out, diag(spec.Warning, "spec.cloudflare.plan", fmt.Sprintf(
			"the spec says %s, the zone is on the %s plan: plan and up check the plan's limits against the zone's %s plan", want, info.Plan, info.Plan)))
	}
	return &info, out
}

// readMonitoringCRDs asks every region's cluster, at the same time, which
// of the Prometheus Operator's CRDs it lacks when nekoctl does not install
// them: a warning per region that lacks any, and per region that cannot be
// asked (a missing CRD is itself only a warning: the plan skips what needs it).
func readMonitoringCRDs(ctx context.Context, opts *ValidateOptions, st *spec.Stack) spec.Diagnostics {
	if st.Spec.Monitoring.Installs() {
		return nil
	}
	found := make([]spec.Diagnostics, len(st.Spec.Regions))
	var wg sync.WaitGroup
	for i, r := range st.Spec.Regions {
		wg.Go(func() {
			m, err := opts.F.MonitoringCRDs(ctx, st, r.Name)
			switch {
			case err != nil:
				found[i] = spec.Diagnostics{{Severity: spec.Warning, File: opts.File, Path: fmt.Sprintf("spec.regions[%d].kubeContext", i),
					Message: "cannot check the cluster for the Prometheus Operator's CRDs: " + err.Error()}}
			case m.Missing():
				found[i] = spec.Diagnostics{{Severity: spec.Warning, File: opts.File, Path: "spec.monitoring.install", Message: m.String()}}
			}
		})
	}
	wg.Wait()
	var out spec.Diagnostics
	for _, d := range found {
		out = append(out, d...)
	}
	return out
}

func zoneLine(z *cloudflare.ZoneInfo) string {
	acct := z.AccountID
	if z.AccountName != "" {
		acct += " (" + z.AccountName + ")"
	}
	return fmt.Sprintf("zone %s: %s plan (%s), status %s, name servers %s, account %s",
		z.Name, z.PlanName, z.Plan, z.Status, strings.Join(z.NameServers, ", "), acct)
}

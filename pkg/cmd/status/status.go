// Package status implements `nekoctl status`.
package status

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// StatusOptions holds the command's dependencies and flags.
type StatusOptions struct {
	F *cmdutil.Factory
	cmdutil.RunOptions
}

// NewCmdStatus builds `status`.
func NewCmdStatus(f *cmdutil.Factory, runF func(*StatusOptions) error) *cobra.Command {
	opts := &StatusOptions{F: f}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the health of every part of the stack",
		Long: heredoc.Doc(`
			Ask every provider for the health of what the stack owns: the Atlas
			cluster's state, the Cloudflare pools' health, each region's rollout.
			Exits 1 when any part is unhealthy or cannot be reached.
		`),
		Example: heredoc.Doc(`
			$ nekoctl status -f nekoctl.yaml
			$ nekoctl status -f nekoctl.yaml -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return statusRun(c.Context(), opts)
		},
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	return cmd
}

func statusRun(ctx context.Context, opts *StatusOptions) error {
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	eng, err := opts.F.Engine(ctx, l.Stack, opts.RunOptions, nil)
	if err != nil {
		return err
	}
	var all []provider.Health
	healthy := true
	for _, p := range eng.Providers {
		s, ok := p.(provider.Statuser)
		if !ok {
			continue
		}
		hs, err := s.Status(ctx)
		if err != nil {
			healthy = false
			hs = append(hs, provider.Health{Address: plan.Address{Provider: p.Name(), Region: p.Region()},
				State: "unreachable", Detail: err.Error()})
		}
		for _, h := range hs {
			healthy = healthy && h.Healthy
		}
		all = append(all, hs...)
	}
	out := opts.F.IOStreams.Out
	if opts.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			FormatVersion string            `json:"format_version"`
			Healthy       bool              `json:"healthy"`
			Resources     []provider.Health `json:"resources"`
		}{plan.FormatVersion, healthy, all}); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PROVIDER\tREGION\tRESOURCE\tSTATE\tDETAIL")
		for _, h := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\n", h.Address.Provider, dash(h.Address.Region), h.Address.Kind, h.Address.Name, h.State, h.Detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !healthy {
		return cmdutil.ErrSilent
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

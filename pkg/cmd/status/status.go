// Package status implements `nekoctl status`.
package status

import (
	"context"
	"encoding/json"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
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
			Ask every provider, all at once (at most --parallelism together), for
			the health of what the stack owns, and show per region what on-call
			asks first: the API's pods ready / desired / autoscaler maximum, the
			image running and whether it is the one this nekoctl deploys, the
			origin certificate's expiry, the public probe of /health, the
			monitoring release and the alerts firing, and the region's Cloudflare
			pool; then the Atlas cluster (state, primary region, backup and
			point-in-time recovery) and the load balancer's pools; then every
			check. A region that cannot be reached is shown as such, the others
			are still read.

			Exit codes: 0 everything healthy; 1 the command could not run (bad
			spec or flags, missing credentials); 3 something is unhealthy; 4 all
			that answered is healthy but some part could not be reached.
		`),
		Example: heredoc.Doc(`
			$ nekoctl status -f nekoctl.yaml
			$ nekoctl status -f nekoctl.yaml -o json | jq '.regions[] | {name, pods}'
		`),
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if opts.Parallelism < 1 {
				return cmdutil.FlagErrorf("--parallelism must be at least 1, not %d", opts.Parallelism)
			}
			if runF != nil {
				return runF(opts)
			}
			return statusRun(c.Context(), opts)
		},
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmd.Flags().Lookup("parallelism").Usage = "how many providers and regions are read at once"
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
	results := collect(ctx, eng.Providers, opts.Parallelism)
	rep := build(l.Stack, opts.F.Now(), results)
	out := opts.F.IOStreams.Out
	if opts.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeText(out, rep)
	}
	if err != nil {
		return err
	}
	if code := exitCode(results); code != cmdutil.ExitOK {
		return &cmdutil.ExitCodeError{Code: code}
	}
	return nil
}

// collect asks every provider for its status, at most limit at once; the
// answers keep the providers' order.
func collect(ctx context.Context, providers []provider.Provider, limit int) []result {
	results := make([]result, len(providers))
	var g errgroup.Group
	g.SetLimit(limit)
	for i, p := range providers {
		results[i] = result{name: p.Name(), region: p.Region()}
		s, ok := p.(provider.Statuser)
		if !ok {
			continue
		}
		g.Go(func() error {
			results[i].lines, results[i].err = s.Status(ctx)
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// exitCode: something that answered unhealthy wins over something that
// did not answer.
func exitCode(results []result) int {
	code := cmdutil.ExitOK
	for _, r := range results {
		if r.err != nil {
			code = cmdutil.ExitUnreachable
		}
		for _, h := range r.lines {
			if !h.Healthy {
				return cmdutil.ExitUnhealthy
			}
		}
	}
	return code
}

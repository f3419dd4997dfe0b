// Package cost implements `nekoctl cost`.
package cost

import (
	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/cost"
)

// CostOptions holds the command's dependencies and flags.
type CostOptions struct {
	F              *cmdutil.Factory
	File           string
	Output         string
	Prices         string
	RequestsPerDay int64
}

// NewCmdCost builds `cost`; runF replaces the run function in tests.
func NewCmdCost(f *cmdutil.Factory, runF func(*CostOptions) error) *cobra.Command {
	opts := &CostOptions{F: f}
	cmd := &cobra.Command{
		Use:   "cost",
		Short: "Estimate the stack's monthly cost per provider and region",
		Long: heredoc.Doc(`
			Price the stack the spec describes from a dated, versioned table of
			public list prices compiled into nekoctl (or the table given with
			--prices): the Cloudflare plan and load balancing, the Atlas cluster's
			nodes in every region and its backup, and in every region the
			Kubernetes control plane, the nodes the API pods and Redis need, the
			Redis volume, the load balancer and its IPs, and egress.

			Nodes are derived from the pods' requests at the HPA minimum (the
			total) and maximum (the peak) on the table's documented node size.
			Nothing is contacted. The figures are list prices before taxes,
			discounts and credits: an estimate, not a bill.
		`),
		Example: heredoc.Doc(`
			$ nekoctl cost -f examples/global.yaml
			$ nekoctl cost -f nekoctl.yaml --requests-per-day 50000000 -o json
			$ nekoctl cost -f nekoctl.yaml --prices my-prices.yaml
		`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if opts.RequestsPerDay < 0 {
				return cmdutil.FlagErrorf("--requests-per-day must not be negative")
			}
			if runF != nil {
				return runF(opts)
			}
			return costRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	fl.StringVar(&opts.Prices, "prices", "", "price table file replacing the built-in one (same YAML shape)")
	fl.Int64Var(&opts.RequestsPerDay, "requests-per-day", cost.DefaultRequestsPerDay, "traffic for egress, DNS queries and the cost per million requests")
	return cmd
}

func costRun(opts *CostOptions) error {
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	prices, err := Prices(opts.Prices)
	if err != nil {
		return err
	}
	e, err := prices.Estimate(l.Stack, cost.Options{RequestsPerDay: opts.RequestsPerDay})
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return cost.JSON(opts.F.IOStreams.Out, e)
	}
	return cost.Text(opts.F.IOStreams.Out, e)
}

// Prices reads the table at path, or the built-in one when path is empty.
func Prices(path string) (*cost.Prices, error) {
	if path == "" {
		return cost.Builtin()
	}
	return cost.LoadPrices(path)
}

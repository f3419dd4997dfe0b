// Package output implements `nekoctl output`: what the stack produced.
package output

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// OutputOptions holds the command's dependencies and flags.
type OutputOptions struct {
	F *cmdutil.Factory
	cmdutil.RunOptions
	// Name selects one output, or every output under a prefix ("regions.us-east").
	Name          string
	ShowSensitive bool
}

// NewCmdOutput builds `output`; runF replaces the run function in tests.
func NewCmdOutput(f *cmdutil.Factory, runF func(*OutputOptions) error) *cobra.Command {
	opts := &OutputOptions{F: f}
	cmd := &cobra.Command{
		Use:   "output [NAME]",
		Short: "Print what the stack produced: its URL, addresses, images, pools, database hosts",
		Long: heredoc.Doc(`
			Read the live stack and print its outputs: the public URL, each
			region's address, rollout image and monitoring objects, the load
			balancer and its pools, the Atlas cluster's hosts and primary region.
			Nothing is changed.

			NAME selects one output, or every output under it ("regions.us-east").
			Secrets (the database password, each region's admin password, the
			connection string) always print masked, unless one is asked for by its
			full name with --show-sensitive: then only that value is printed.
		`),
		Example: heredoc.Doc(`
			$ nekoctl output -f nekoctl.yaml
			$ nekoctl output url
			$ nekoctl output regions.eu-west -o json
			$ nekoctl output regions.us-east.admin_password --show-sensitive
		`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if len(args) == 1 {
				opts.Name = args[0]
			}
			if opts.ShowSensitive && opts.Name == "" {
				return cmdutil.FlagErrorf("--show-sensitive needs the NAME of the one secret to show")
			}
			if runF != nil {
				return runF(opts)
			}
			return outputRun(c.Context(), opts)
		},
	}
	cmdutil.AddRunFlags(cmd, &opts.RunOptions)
	cmd.Flags().Lookup("parallelism").Usage = "accepted as plan accepts it; output changes nothing and reads every provider and region at once"
	cmd.Flags().BoolVar(&opts.ShowSensitive, "show-sensitive", false, "print the secret NAME in clear (only that value)")
	return cmd
}

func outputRun(ctx context.Context, opts *OutputOptions) error {
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	eng, err := opts.F.Engine(ctx, l.Stack, opts.RunOptions, nil)
	if err != nil {
		return err
	}
	planned := eng.Plan(ctx, l.Stack.Metadata.Name, opts.Provider)
	for _, d := range planned.Plan.Diagnostics {
		if d.Severity == plan.SeverityError {
			return fmt.Errorf("reading the stack: %s", d.Message)
		}
	}
	outs := selectOutputs(collect(l.Stack, planned), opts.Name)
	if len(outs) == 0 {
		if opts.Name != "" {
			return fmt.Errorf("no output %q (run 'nekoctl output' for the list; outputs of parts not yet created are absent)", opts.Name)
		}
		return fmt.Errorf("the stack %q has no outputs yet: nothing it owns exists (run 'nekoctl up')", l.Stack.Metadata.Name)
	}
	w := opts.F.IOStreams.Out
	if opts.ShowSensitive {
		if len(outs) != 1 || outs[0].Name != opts.Name {
			return cmdutil.FlagErrorf("--show-sensitive prints one value: name it in full, such as %s", outs[0].Name)
		}
		if s, ok := outs[0].Value.(plan.Sensitive); ok {
			_, err := fmt.Fprintln(w, s.Reveal())
			return err
		}
	}
	// One output asked for by its full name prints bare, for scripts.
	if len(outs) == 1 && outs[0].Name == opts.Name {
		if opts.Output == "json" {
			return writeJSON(w, outs[0].Value)
		}
		_, err := fmt.Fprintln(w, bare(outs[0].Value))
		return err
	}
	if opts.Output == "json" {
		doc := map[string]any{}
		for _, o := range outs {
			doc[o.Name] = o.Value
		}
		return writeJSON(w, doc)
	}
	width := 0
	for _, o := range outs {
		width = max(width, len(o.Name))
	}
	for _, o := range outs {
		if _, err := fmt.Fprintf(w, "%-*s = %s\n", width, o.Name, printer.Value(o.Value)); err != nil {
			return err
		}
	}
	return nil
}

// selectOutputs keeps the output named name, or those under it.
func selectOutputs(all []Output, name string) []Output {
	if name == "" {
		return all
	}
	var out []Output
	for _, o := range all {
		if o.Name == name || strings.HasPrefix(o.Name, name+".") {
			out = append(out, o)
		}
	}
	return out
}

// bare renders one value for a shell: strings unquoted, lists one per line.
func bare(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		lines := make([]string, 0, len(x))
		for _, e := range x {
			lines = append(lines, bare(e))
		}
		return strings.Join(lines, "\n")
	}
	return printer.Value(v)
}

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

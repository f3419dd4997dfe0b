// Package show implements `nekoctl show`: print a saved plan.
package show

import (
	"fmt"
	"strings"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// ShowOptions holds the command's dependencies and flags.
type ShowOptions struct {
	F        *cmdutil.Factory
	PlanFile string
	Output   string
}

// NewCmdShow builds `show`; runF replaces the run function in tests.
func NewCmdShow(f *cmdutil.Factory, runF func(*ShowOptions) error) *cobra.Command {
	opts := &ShowOptions{F: f}
	cmd := &cobra.Command{
		Use:   "show PLANFILE",
		Short: "Print a plan saved by 'nekoctl plan -out FILE'",
		Long: heredoc.Doc(`
			Print a saved plan as text, as the JSON of 'plan -o json', or as
			Markdown for a pull-request comment. Nothing is contacted; secrets
			were never saved and show masked.
		`),
		Example: heredoc.Doc(`
			$ nekoctl show plan.out
			$ nekoctl show plan.out -o json | jq '.summary'
			$ nekoctl show plan.out -o markdown > comment.md
		`),
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			switch opts.Output {
			case "text", "json", "markdown":
			default:
				return cmdutil.FlagErrorf("--output must be text, json or markdown, not %q", opts.Output)
			}
			opts.PlanFile = args[0]
			if runF != nil {
				return runF(opts)
			}
			return showRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or markdown")
	return cmd
}

func showRun(opts *ShowOptions) error {
	f, err := planfile.ReadFile(opts.PlanFile)
	if err != nil {
		return err
	}
	w := opts.F.IOStreams.Out
	switch opts.Output {
	case "json":
		return printer.PlanJSON(w, f.Plan)
	case "markdown":
		return printer.PlanMarkdown(w, f.Plan, printer.MarkdownOptions{Title: title(f)})
	}
	fmt.Fprintf(w, "Saved plan of stack %q: %s.\n\n", f.Plan.Stack, about(f))
	return printer.PlanText(w, f.Plan, printer.TextOptions{Color: opts.F.IOStreams.ColorEnabled()})
}

func title(f *planfile.File) string {
	if f.Options.Destroy {
		return "nekoctl destroy plan"
	}
	return "nekoctl plan"
}

// about says where the plan comes from and what it was planned with.
func about(f *planfile.File) string {
	parts := []string{fmt.Sprintf("nekoctl %s, spec %s (%s)", f.NekoctlVersion, f.Spec.Path, f.Spec.Digest)}
	if !f.CreatedAt.IsZero() {
		parts = append(parts, "made "+f.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
	}
	var flags []string
	for _, fl := range []struct {
		name string
		on   bool
	}{{"--destroy", f.Options.Destroy}, {"--force", f.Options.Force}, {"--adopt", f.Options.Adopt}, {"--rotate-db-password", f.Options.RotateDBPassword}} {
		if fl.on {
			flags = append(flags, fl.name)
		}
	}
	if len(flags) > 0 {
		parts = append(parts, "with "+strings.Join(flags, " "))
	}
	return strings.Join(parts, ", ")
}

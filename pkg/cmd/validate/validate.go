// Package validate implements `nekoctl validate`.
package validate

import (
	"errors"
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// ValidateOptions holds the command's dependencies and flags.
type ValidateOptions struct {
	F      *cmdutil.Factory
	File   string
	Output string
}

// NewCmdValidate builds `validate`; runF replaces the run function in tests.
func NewCmdValidate(f *cmdutil.Factory, runF func(*ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{F: f}
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check a spec file without contacting any service",
		Long: heredoc.Doc(`
			Parse the spec, fill in defaults and check every field and cross-field
			rule. All problems are reported together, each with file:line:column
			and the field path. Nothing remote is contacted.
		`),
		Example: heredoc.Doc(`
			$ nekoctl validate -f examples/global.yaml
			$ nekoctl validate -f nekoctl.yaml -o json | jq .valid
		`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return validateRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func validateRun(opts *ValidateOptions) error {
	io := opts.F.IOStreams
	if opts.Output == "json" {
		l, err := spec.Load(opts.File)
		var ve *spec.ValidationError
		if err != nil && !errors.As(err, &ve) {
			return err
		}
		if err := printer.ValidationJSON(io.Out, opts.File, l.Diagnostics); err != nil {
			return err
		}
		if l.Diagnostics.HasErrors() {
			return cmdutil.ErrSilent
		}
		return nil
	}
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	for _, d := range l.Diagnostics {
		if d.Severity == spec.Info {
			fmt.Fprintln(io.ErrOut, d.String())
		}
	}
	fmt.Fprintf(io.Out, "%s: valid stack %q with %d region(s)\n", opts.File, l.Stack.Metadata.Name, len(l.Stack.Spec.Regions))
	return nil
}

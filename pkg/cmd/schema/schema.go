// Package schema implements `nekoctl schema`.
package schema

import (
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// SchemaOptions holds the command's dependencies.
type SchemaOptions struct {
	F *cmdutil.Factory
}

// NewCmdSchema builds `schema`.
func NewCmdSchema(f *cmdutil.Factory, runF func(*SchemaOptions) error) *cobra.Command {
	opts := &SchemaOptions{F: f}
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the spec, for editors",
		Long: heredoc.Doc(`
			Print the JSON Schema of nekoctl.yaml, generated from the same Go types
			the loader uses. Point your editor's YAML language server at it to get
			completion and validation while writing a spec.
		`),
		Example: heredoc.Doc(`
			$ nekoctl schema > nekoctl.schema.json
			# then, first line of nekoctl.yaml:
			# yaml-language-server: $schema=./nekoctl.schema.json
		`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if runF != nil {
				return runF(opts)
			}
			b, err := spec.Schema()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(opts.F.IOStreams.Out, string(b))
			return err
		},
	}
}

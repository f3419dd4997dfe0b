// Package render implements `nekoctl render`.
package render

import (
	"fmt"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
)

// RenderOptions holds the command's dependencies and flags.
type RenderOptions struct {
	F      *cmdutil.Factory
	File   string
	Region string
}

// NewCmdRender builds `render`.
func NewCmdRender(f *cmdutil.Factory, runF func(*RenderOptions) error) *cobra.Command {
	opts := &RenderOptions{F: f}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Print one region's Kubernetes manifests as YAML",
		Long: heredoc.Doc(`
			Print the Kubernetes objects nekoctl applies in one region, from the
			templates embedded in this binary. Values that other providers supply
			at apply time (the Atlas connection string, the origin certificate)
			are left out of the Secrets. No cluster is contacted.
		`),
		Example: heredoc.Doc(`
			$ nekoctl render -f examples/global.yaml --region eu-west
			$ nekoctl render -f nekoctl.yaml --region us-east | kubectl apply --dry-run=server -f -
		`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if opts.Region == "" {
				return cmdutil.FlagErrorf("--region is required")
			}
			if runF != nil {
				return runF(opts)
			}
			return renderRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.File, "file", "f", cmdutil.DefaultSpecFile, "spec file")
	cmd.Flags().StringVarP(&opts.Region, "region", "r", "", "region whose manifests to print (required)")
	return cmd
}

func renderRun(opts *RenderOptions) error {
	l, err := opts.F.LoadStack(opts.File)
	if err != nil {
		return err
	}
	if l.Stack.Spec.Region(opts.Region) == nil {
		return cmdutil.FlagErrorf("region %q is not in %s", opts.Region, opts.File)
	}
	if opts.F.RenderManifests == nil {
		return fmt.Errorf("rendering is not available in this build")
	}
	out, err := opts.F.RenderManifests(l.Stack, opts.Region)
	if err != nil {
		return fmt.Errorf("rendering region %s: %w", opts.Region, err)
	}
	_, err = opts.F.IOStreams.Out.Write(out)
	return err
}

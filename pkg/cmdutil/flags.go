package cmdutil

import (
	"github.com/spf13/cobra"
)

// AddRunFlags registers the flags plan, up and down share.
func AddRunFlags(cmd *cobra.Command, o *RunOptions) {
	fl := cmd.Flags()
	fl.StringVarP(&o.File, "file", "f", DefaultSpecFile, "spec file")
	fl.StringVarP(&o.Output, "output", "o", "text", "output format: text or json")
	fl.IntVar(&o.Parallelism, "parallelism", 8, "how many changes apply at once against each provider and region (planning reads every provider at once)")
}

// Package version implements `nekoctl version`.
package version

import (
	"cmp"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"

	"github.com/MakeNowJust/heredoc"
	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// VersionOptions holds the command's dependencies and flags.
type VersionOptions struct {
	F      *cmdutil.Factory
	Output string
}

// NewCmdVersion builds `version`.
func NewCmdVersion(f *cmdutil.Factory, runF func(*VersionOptions) error) *cobra.Command {
	opts := &VersionOptions{F: f}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Show nekoctl's version and the workload image it deploys",
		Example: heredoc.Doc(`
			$ nekoctl version
			$ nekoctl version -o json
		`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := cmdutil.CheckOutput(opts.Output); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	return cmd
}

func versionRun(opts *VersionOptions) error {
	out := opts.F.IOStreams.Out
	info := map[string]string{
		"version": cmp.Or(version.Release(), version.Version), "commit": version.CommitOrVCS(), "date": version.Date,
		"image": version.Image(), "image_pinned": strconv.FormatBool(version.ImagePinned()),
		"go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH,
	}
	if opts.Output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(info)
	}
	fmt.Fprintf(out, "nekoctl %s (commit %s", info["version"], info["commit"])
	if info["date"] != "" {
		fmt.Fprintf(out, ", built %s", info["date"])
	}
	fmt.Fprintf(out, ", %s, %s)\nworkload image: %s", info["go"], info["platform"], info["image"])
	if !version.ImagePinned() {
		fmt.Fprint(out, " (a moving tag: without a release version, plan and up deploy only an image spec.workload.image names)")
	}
	fmt.Fprintln(out)
	return nil
}

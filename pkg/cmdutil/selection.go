package cmdutil

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// AddSelectionFlags registers --region, --target and --exclude, which make a
// run partial (plan, up, down).
func AddSelectionFlags(cmd *cobra.Command, s *plan.Selection) {
	fl := cmd.Flags()
	fl.StringArrayVar(&s.Regions, "region", nil, "only this region's changes and what they need (repeatable)")
	fl.StringArrayVar(&s.Targets, "target", nil, "only changes at this address or under it, and what they need (repeatable; e.g. kubernetes.us-east.Deployment)")
	fl.StringArrayVar(&s.Excludes, "exclude", nil, "leave out changes at this address or under it, and those that need them (repeatable)")
}

// CheckRegions refuses a --region the spec does not declare, before anything
// remote is contacted.
func CheckRegions(st *spec.Stack, s plan.Selection) error {
	var known []string
	for _, r := range st.Spec.Regions {
		known = append(known, r.Name)
	}
	for _, r := range s.Regions {
		if !slices.Contains(known, r) {
			return FlagErrorf("--region %s: the spec has no such region (its regions: %s)", r, strings.Join(known, ", "))
		}
	}
	return nil
}

// SelectionFlags are the flags AddSelectionFlags registers.
var SelectionFlags = []string{"region", "target", "exclude"}

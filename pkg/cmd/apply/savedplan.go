package apply

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// planFlags are the planning choices a saved plan has already made.
var planFlags = append([]string{"rotate-db-password", "rotate-jwt-key", "adopt", "force", "delete-backups"}, cmdutil.SelectionFlags...)

// usePlanFile reads the saved plan `up FILE` applies. The plan's own
// options replace the planning flags, and its spec path is read unless -f
// names another.
func (o *ApplyOptions) usePlanFile(c *cobra.Command, path string) error {
	for _, name := range planFlags {
		if fl := c.Flags().Lookup(name); fl != nil && fl.Changed {
			return fmt.Errorf("--%s cannot be used with a saved plan: it was decided when the plan was made", name)
		}
	}
	f, err := planfile.ReadFile(path)
	if err != nil {
		return err
	}
	if cs := f.Plan.Conflicts(); len(cs) > 0 {
		lines := make([]string, 0, len(cs))
		for _, ch := range cs {
			lines = append(lines, fmt.Sprintf("  * %s: %s", ch.Address, ch.Conflict))
		}
		return fmt.Errorf("%s cannot be applied, nothing was applied: %d resource(s) conflict with live objects nekoctl does not own:\n%s\n"+
			"Make a new plan with --adopt to take them over, or remove them.", path, len(cs), strings.Join(lines, "\n"))
	}
	o.saved, o.PlanFile = f, path
	o.Provider = f.Options.Provider()
	if !c.Flags().Changed("file") && f.Spec.Path != "" {
		o.File = f.Spec.Path
	}
	return nil
}

// plan returns what to apply: a fresh plan, or the saved plan once it is
// checked against the spec, this nekoctl and a fresh read of the planned
// resources. The checked plan carries the fresh changes of exactly the
// saved addresses, with the secrets and outputs the file never held.
func (o *ApplyOptions) plan(ctx context.Context, eng *engine.Engine, l *spec.Loaded) (*engine.Planned, error) {
	if o.saved == nil {
		return eng.PlanSelected(ctx, l.Stack.Metadata.Name, o.Provider, o.Select)
	}
	if l.Stack.Metadata.Name != o.saved.Plan.Stack {
		return nil, fmt.Errorf("%s is a plan of stack %q, the spec %s describes stack %q", o.PlanFile, o.saved.Plan.Stack, o.File, l.Stack.Metadata.Name)
	}
	digest, err := planfile.SpecDigest(l.Stack)
	if err != nil {
		return nil, err
	}
	if err := planfile.CheckHeader(o.saved, version.Version, digest); err != nil {
		return nil, err
	}
	reread := *eng
	reread.Providers = planfile.Involved(o.saved.Plan, eng.Providers)
	fresh := reread.Plan(ctx, l.Stack.Metadata.Name, o.Provider)
	checked, err := planfile.Check(o.saved, fresh.Plan)
	if err != nil {
		return nil, err
	}
	return &engine.Planned{Plan: checked, Outputs: fresh.Outputs}, nil
}

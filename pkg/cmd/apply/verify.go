package apply

import (
	"context"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/engine"
)

// verify ends `up`: what was applied must serve (each region's route
// accepted by its Gateway, its origin answering). `down` has nothing to
// prove. A partial run proves only its regions; one narrowed by address
// may have left a region half-built on purpose, so it proves nothing and
// says so.
func (o *ApplyOptions) verify(ctx context.Context, eng *engine.Engine) error {
	if o.Provider.Destroy {
		return nil
	}
	sel := o.Select
	if o.saved != nil && o.saved.Plan.Selection != nil {
		sel = *o.saved.Plan.Selection
	}
	if len(sel.Targets)+len(sel.Excludes) > 0 {
		fmt.Fprintf(o.F.IOStreams.ErrOut, "Partial run (%s): the regions were not verified; 'nekoctl status' checks them.\n", sel)
		return nil
	}
	return eng.ForRegions(sel.Regions).Verify(ctx)
}

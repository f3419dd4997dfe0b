package apply

import (
	"context"

	"github.com/neko-defense/nekoctl/pkg/engine"
)

// verify ends `up`: what was applied must serve (each region's route
// accepted by its Gateway, its origin answering). `down` has nothing to
// prove.
func (o *ApplyOptions) verify(ctx context.Context, eng *engine.Engine) error {
	if o.Provider.Destroy {
		return nil
	}
	return eng.Verify(ctx)
}

package atlas

import (
	"context"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// createChecked sends a create that is not safe to repeat blindly. When
// its answer is lost (no answer, 5xx, or an error retry says to read back
// for), it reads the object back by its identity: found, the lost request
// made it and nothing is sent again; absent, the create is sent again after
// a backoff, up to Config.CreateAttempts times.
func (p *Provider) createChecked(ctx context.Context, addr plan.Address, post func() error,
	retry func(error) bool, find func() (bool, error)) error {
	if retry == nil {
		retry = answerLost
	}
	pol := withDefaults(RetryPolicy{Sleep: p.cfg.Sleep})
	for attempt := 1; ; attempt++ {
		err := post()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retry(err) {
			return err
		}
		found, ferr := find()
		if ferr != nil {
			return fmt.Errorf("%w; reading it back: %w", err, ferr)
		}
		if found {
			p.emit(event.Event{Type: event.Progress, Address: addr, Action: plan.Create,
				Message: "the create's answer was lost but the object exists: not created again"})
			return nil
		}
		if attempt >= p.cfg.CreateAttempts {
			return err
		}
		p.emit(event.Event{Type: event.Progress, Address: addr, Action: plan.Create,
			Message: fmt.Sprintf("the object does not exist; sending the create again (attempt %d of %d)", attempt+1, p.cfg.CreateAttempts)})
		if err := pol.Sleep(ctx, pol.Backoff(attempt)); err != nil {
			return err
		}
	}
}

package atlas

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// waitIdle polls until the cluster is IDLE, reporting its state and the
// time spent. A wait that times out can be resumed by running again.
func (p *Provider) waitIdle(ctx context.Context, addr plan.Address, act plan.Action, gid, name string) error {
	return p.wait(ctx, addr, act, func() (bool, string, error) {
		c, err := p.getCluster(ctx, gid, name)
		switch {
		case isStatus(err, http.StatusServiceUnavailable):
			return false, "unavailable", nil
		case err != nil:
			return false, "", err
		case c == nil:
			return false, "", fmt.Errorf("cluster disappeared while waiting for it")
		}
		if c.GetStateName() != "IDLE" {
			return false, c.GetStateName(), nil
		}
		// Atlas may answer IDLE for a moment after a change was accepted:
		// the change status tells whether it has been applied.
		st, _, err := p.client.ClustersApi.GetClusterStatus(ctx, gid, name).Execute()
		if err != nil {
			return false, "", err
		}
		if st.GetChangeStatus() == "PENDING" {
			return false, "IDLE (change pending)", nil
		}
		p.setLive(c)
		return true, "IDLE", nil
	}, "IDLE")
}

func (p *Provider) waitGone(ctx context.Context, addr plan.Address, act plan.Action, gid, name string) error {
	return p.wait(ctx, addr, act, func() (bool, string, error) {
		c, err := p.getCluster(ctx, gid, name)
		switch {
		case isStatus(err, http.StatusServiceUnavailable):
			return false, "unavailable", nil
		case err != nil:
			return false, "", err
		case c == nil:
			return true, "deleted", nil
		}
		return false, c.GetStateName(), nil
	}, "deleted")
}

var errTimeout = errors.New("timed out")

func (p *Provider) wait(ctx context.Context, addr plan.Address, act plan.Action, poll func() (bool, string, error), goal string) error {
	start := p.cfg.Now()
	last := ""
	// Look again soon, then back off to PollInterval: a backend that is
	// ready quickly is not held for a whole interval.
	pause := p.cfg.PollInterval / 60
	for {
		done, state, err := poll()
		if err != nil {
			return fmt.Errorf("waiting for the cluster to be %s: %w", goal, err)
		}
		elapsed := p.cfg.Now().Sub(start)
		if done {
			return nil
		}
		last = state
		p.emit(event.Event{Type: event.Progress, Address: addr, Action: act, Message: state, Elapsed: elapsed})
		if elapsed >= p.cfg.Timeout {
			return fmt.Errorf("%w after %s waiting for the cluster to be %s (still %s); run again to resume waiting",
				errTimeout, elapsed.Round(time.Second), goal, last)
		}
		if err := p.cfg.Sleep(ctx, pause); err != nil {
			return err
		}
		pause = min(pause*3/2, p.cfg.PollInterval)
	}
}

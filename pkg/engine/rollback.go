package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-multierror"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// PlanRollback plans returning the named regions (every region when none
// is named) to the workload revision recorded before nekoctl last changed
// it. A named region with nothing to roll back to is an error; among all
// regions, only a warning.
func (e *Engine) PlanRollback(ctx context.Context, stack string, regions []string) *Planned {
	p := &plan.Plan{Stack: stack, Changes: []plan.Change{}}
	named := map[string]bool{}
	for _, r := range regions {
		named[r] = true
	}
	var picked []provider.RollBacker
	var where []provider.Provider
	found := map[string]bool{}
	for _, pr := range e.Providers {
		rb, ok := pr.(provider.RollBacker)
		if !ok || (len(named) > 0 && !named[pr.Region()]) {
			continue
		}
		picked, where = append(picked, rb), append(where, pr)
		found[pr.Region()] = true
	}
	for r := range named {
		if !found[r] {
			p.Diagnostics = append(p.Diagnostics, plan.Diagnostic{Severity: plan.SeverityError, Region: r,
				Message: fmt.Sprintf("region %q is not a region of the stack", r)})
		}
	}
	changes := make([]plan.Change, len(picked))
	errs := make([]error, len(picked))
	var wg sync.WaitGroup
	for i, rb := range picked {
		wg.Add(1)
		go func() {
			defer wg.Done()
			changes[i], errs[i] = rb.PlanRollback(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		pr := where[i]
		if err == nil {
			p.Changes = append(p.Changes, changes[i])
			continue
		}
		sev := plan.SeverityError
		if len(regions) == 0 && errors.Is(err, provider.ErrNoRevision) {
			sev = plan.SeverityWarning
		}
		p.Diagnostics = append(p.Diagnostics, plan.Diagnostic{Severity: sev, Provider: pr.Name(), Region: pr.Region(),
			Message: err.Error()})
	}
	p.Sort()
	return &Planned{Plan: p, Outputs: provider.NewOutputs()}
}

// RollBack carries out a rollback plan: every region at once, each waiting
// for its rollout. Every failure is returned together.
func (e *Engine) RollBack(ctx context.Context, pl *Planned) (*Result, error) {
	res := &Result{Outcomes: make([]Outcome, len(pl.Plan.Changes))}
	var wg sync.WaitGroup
	for i, c := range pl.Plan.Changes {
		res.Outcomes[i] = Outcome{Change: c, Status: event.Succeeded}
		if c.Action == plan.NoOp {
			continue
		}
		rb, ok := e.providerFor(c.Address).(provider.RollBacker)
		if !ok {
			res.Outcomes[i].Status, res.Outcomes[i].Err = event.Failed, fmt.Errorf("%s: cannot be rolled back", c.Address)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.runRollback(ctx, rb, c); err != nil {
				res.Outcomes[i].Status, res.Outcomes[i].Err = event.Failed, err
			}
		}()
	}
	wg.Wait()
	var failed *multierror.Error
	for _, o := range res.Outcomes {
		if o.Err != nil {
			failed = multierror.Append(failed, o.Err)
		}
	}
	if failed != nil {
		failed.ErrorFormat = listErrors
		return res, fmt.Errorf("%w: %w", ErrPartial, failed)
	}
	return res, nil
}

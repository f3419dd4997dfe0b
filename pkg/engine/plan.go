// Package engine plans and applies a stack across providers. It emits
// events and returns data; it never prints.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Engine runs one plan or apply over a set of providers.
type Engine struct {
	Providers []provider.Provider
	Events    event.Sink
	Now       func() time.Time
	// Parallelism caps how many providers read, and how many changes apply, at once.
	Parallelism int
}

// Planned is a plan with the outputs learned while reading, which apply continues from.
type Planned struct {
	Plan    *plan.Plan
	Outputs provider.Outputs
}

// Plan reads every provider's live state (unless offline), computes desired
// state and diffs it. A provider that fails adds an error diagnostic naming
// it; the others still plan.
func (e *Engine) Plan(ctx context.Context, stack string, opts provider.Options) *Planned {
	out := provider.NewOutputs()
	p := &plan.Plan{Stack: stack, Changes: []plan.Change{}}
	live := make([][]provider.Resource, len(e.Providers))
	failed := make([]error, len(e.Providers))
	planned := make([][]plan.Change, len(e.Providers))
	if !opts.Offline {
		e.each(func(i int, pr provider.Provider) {
			live[i], failed[i] = pr.Read(ctx, out)
			if failed[i] != nil {
				failed[i] = fmt.Errorf("reading live state: %w", failed[i])
			}
		})
	}
	// Desired state runs after every Read, so that values one provider
	// learned (addresses, existing secrets) reach the others, and in provider
	// order, so that a provider may consume what an earlier one publishes
	// while planning (the Atlas connection string for the Kubernetes Secret).
	for i, pr := range e.Providers {
		if failed[i] != nil {
			continue
		}
		desired, err := pr.Desired(ctx, out)
		if err != nil {
			failed[i] = fmt.Errorf("building desired state: %w", err)
			continue
		}
		changes, err := pr.Diff(ctx, desired, live[i], opts)
		if err != nil {
			failed[i] = fmt.Errorf("diffing: %w", err)
			continue
		}
		planned[i] = changes
	}
	for i, err := range failed {
		p.Changes = append(p.Changes, planned[i]...)
		if err != nil {
			pr := e.Providers[i]
			p.Diagnostics = append(p.Diagnostics, plan.Diagnostic{Severity: plan.SeverityError,
				Provider: pr.Name(), Region: pr.Region(), Message: describeProvider(pr) + ": " + err.Error()})
		}
	}
	p.Sort()
	return &Planned{Plan: p, Outputs: out}
}

// each runs f for every provider with at most Parallelism at once.
func (e *Engine) each(f func(int, provider.Provider)) {
	sem := make(chan struct{}, e.parallelism())
	var wg sync.WaitGroup
	for i, pr := range e.Providers {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i, pr)
		}()
	}
	wg.Wait()
}

func (e *Engine) parallelism() int {
	if e.Parallelism < 1 {
		return 1
	}
	return e.Parallelism
}

func describeProvider(p provider.Provider) string {
	if p.Region() != "" {
		return fmt.Sprintf("%s (region %s)", p.Name(), p.Region())
	}
	return p.Name()
}

// ErrPartial is wrapped by apply errors when some changes failed.
var ErrPartial = errors.New("some changes failed")

func (e *Engine) now() time.Time {
	if e.Now == nil {
		return time.Time{}
	}
	return e.Now()
}

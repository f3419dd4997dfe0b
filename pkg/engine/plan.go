// Package engine plans and applies a stack across providers. It emits
// events and returns data; it never prints.
package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	// Parallelism caps how many changes apply at once against each provider
	// and region (planning reads every provider at once, each within its own
	// request limits).
	Parallelism int
	// Stop, when closed, lets the changes in flight finish and starts no more.
	Stop <-chan struct{}
	// Rollout, when set, stages the workload's changes in waves (waves.go).
	Rollout *Rollout
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
	learned := make([][]plan.Diagnostic, len(e.Providers))
	if !opts.Offline {
		for _, pr := range e.Providers {
			if c, ok := pr.(provider.Connector); ok {
				c.Connect(ctx)
			}
		}
		e.each(func(i int, pr provider.Provider) {
			live[i], failed[i] = pr.Read(ctx, out)
			if failed[i] != nil {
				failed[i] = fmt.Errorf("reading live state: %w", failed[i])
			}
		})
	}
	// Desired state runs after every Read, so that values one provider
	// learned (addresses, existing secrets) reach the others. Providers then
	// build and diff their desired state at the same time, except that one
	// whose Desired consumes what another publishes while planning (the
	// Atlas connection string for the Kubernetes Secret) waits for that
	// provider's Desired, and only for it.
	built := make([]chan struct{}, len(e.Providers))
	for i := range built {
		built[i] = make(chan struct{})
	}
	waitFor := e.planInputs()
	e.each(func(i int, pr provider.Provider) {
		for _, j := range waitFor[i] {
			<-built[j]
		}
		desired, err := e.desired(ctx, pr, failed[i], out, built[i])
		if err != nil {
			failed[i] = err
			return
		}
		changes, err := pr.Diff(ctx, desired, live[i], opts)
		if err != nil {
			failed[i] = fmt.Errorf("diffing: %w", err)
			return
		}
		planned[i] = changes
		if d, ok := pr.(provider.Diagnoser); ok {
			learned[i] = d.Diagnostics()
		}
	})
	if !opts.Offline && !opts.Destroy {
		e.check(ctx, p, failed)
	}
	for i, err := range failed {
		p.Changes = append(p.Changes, planned[i]...)
		p.Diagnostics = append(p.Diagnostics, learned[i]...)
		if err != nil {
			pr := e.Providers[i]
			p.Diagnostics = append(p.Diagnostics, plan.Diagnostic{Severity: plan.SeverityError,
				Provider: pr.Name(), Region: pr.Region(), Message: describeProvider(pr) + ": " + err.Error()})
		}
	}
	p.Sort()
	if e.Rollout != nil && !opts.Destroy {
		p.Rollout = e.Rollout.describe(p)
	}
	return &Planned{Plan: p, Outputs: out}
}

// desired runs a provider's Desired unless it already failed, and closes
// built when done, successfully or not, so that providers waiting for its
// outputs go on.
func (e *Engine) desired(ctx context.Context, pr provider.Provider, failed error, out provider.Outputs, built chan struct{}) ([]provider.Resource, error) {
	defer close(built)
	if failed != nil {
		return nil, failed
	}
	d, err := pr.Desired(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("building desired state: %w", err)
	}
	return d, nil
}

// planInputs lists, for every provider, the earlier providers whose Desired
// publishes a value its own Desired consumes (provider.PlanInputs; a key's
// first segment names its producer). Only earlier providers count, which
// keeps the waits free of cycles.
func (e *Engine) planInputs() [][]int {
	out := make([][]int, len(e.Providers))
	for i, pr := range e.Providers {
		in, ok := pr.(provider.PlanInputs)
		if !ok {
			continue
		}
		producers := map[string]bool{}
		for _, key := range in.PlanInputs() {
			name, _, _ := strings.Cut(key, "/")
			producers[name] = true
		}
		for j := 0; j < i; j++ {
			if producers[e.Providers[j].Name()] && e.Providers[j].Name() != pr.Name() {
				out[i] = append(out[i], j)
			}
		}
	}
	return out
}

// each runs f for every provider at once. Planning is bound by the network,
// not by the machine: every provider talks to its own service (each region
// to its own API server) within that provider's own limits on requests in
// flight, so a cap here would only stretch a plan over more round trips.
// Parallelism caps the changes applied at once, per provider and region.
func (e *Engine) each(f func(int, provider.Provider)) {
	var wg sync.WaitGroup
	for i, pr := range e.Providers {
		wg.Add(1)
		go func() {
			defer wg.Done()
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

package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/graph"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Outcome is what happened to one change.
type Outcome struct {
	Change plan.Change
	Status event.Type // Succeeded, Failed, Skipped or Interrupted
	Err    error
}

// Result is the outcome of every change of an apply, in plan order.
type Result struct {
	Outcomes []Outcome
	// RolledBack are the regions of a failed rollout wave put back on
	// their recorded revision.
	RolledBack []RolledBack
}

// Failed returns the changes that failed (not those skipped because of them).
func (r *Result) Failed() []Outcome { return r.With(event.Failed) }

// Skipped returns the changes not attempted because a dependency failed.
func (r *Result) Skipped() []Outcome { return r.With(event.Skipped) }

// Interrupted returns the changes not made because the run was interrupted:
// never started, or cut short in flight.
func (r *Result) Interrupted() []Outcome { return r.With(event.Interrupted) }

// With returns the outcomes of one status, in plan order.
func (r *Result) With(t event.Type) []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Status == t {
			out = append(out, o)
		}
	}
	return out
}

// Apply carries out exactly the plan's changes. A change runs after every
// change it depends on succeeded (explicitly, or by consuming an output
// another change produces); deletes run in reverse order. Dependents of a
// failure are skipped and reported once. Every failure is returned together.
// Parallelism caps the changes in flight against each provider and region
// (lane), so that thirty regions roll out at once, each API server seeing
// at most that many.
//
// When Stop closes, no new change starts and the changes in flight finish;
// when ctx is cancelled the changes in flight are cut short too. Either way
// what did not run is reported as interrupted, not as failed, and the error
// wraps ErrInterrupted.
func (e *Engine) Apply(ctx context.Context, pl *Planned) (*Result, error) {
	g, err := Graph(pl.Plan)
	if err != nil {
		return nil, err
	}
	status := map[plan.Address]event.Type{}
	errs := map[plan.Address]error{}
	var mu sync.Mutex
	record := func(a plan.Address, t event.Type, err error) {
		mu.Lock()
		defer mu.Unlock()
		status[a], errs[a] = t, err
	}
	results := g.WalkLanes(e.parallelism(), lane, func(c *plan.Change) error {
		t, err := e.applyOne(ctx, pl.Plan, *c, pl.Outputs)
		record(c.Address, t, err)
		if t != event.Succeeded {
			return err
		}
		return nil
	}, func(c, blocker *plan.Change) {
		if e.stopping(ctx) {
			record(c.Address, event.Interrupted, ErrInterrupted)
			e.emit(event.Event{Type: event.Interrupted, Address: c.Address, Action: c.Action,
				Message: "not started: the run was interrupted"})
			return
		}
		record(c.Address, event.Skipped, fmt.Errorf("skipped: %s did not succeed", blocker.Address))
		e.emit(event.Event{Type: event.Skipped, Address: c.Address, Action: c.Action,
			Message: "depends on " + blocker.Address.String() + ", which did not succeed"})
	})
	res := &Result{}
	var failed *multierror.Error
	for _, r := range results {
		c := r.Node
		res.Outcomes = append(res.Outcomes, Outcome{Change: *c, Status: status[c.Address], Err: errs[c.Address]})
		if status[c.Address] == event.Failed {
			failed = multierror.Append(failed, errs[c.Address])
		}
	}
	if failed != nil {
		failed.ErrorFormat = listErrors
		err = fmt.Errorf("%w: %w", ErrPartial, failed)
	}
	if n := len(res.Interrupted()); n > 0 {
		err = errors.Join(err, fmt.Errorf("%w: %d change(s) not made", ErrInterrupted, n))
	}
	res.RolledBack = e.rollBackFailed(ctx, pl.Plan, res)
	if rerr := rollbackError(res.RolledBack); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return res, err
}

// lane is the remote endpoint a change talks to: its provider, and its
// region for a regional provider.
func lane(c *plan.Change) string { return c.Address.Provider + "/" + c.Address.Region }

// stopping reports whether the run was asked to stop scheduling changes.
func (e *Engine) stopping(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-e.Stop:
		return true
	default:
		return false
	}
}

func (e *Engine) applyOne(ctx context.Context, p *plan.Plan, c plan.Change, out provider.Outputs) (event.Type, error) {
	pr := e.providerFor(c.Address)
	if pr == nil {
		return event.Failed, fmt.Errorf("%s: no provider for this address", c.Address)
	}
	if e.stopping(ctx) {
		e.emit(event.Event{Type: event.Interrupted, Address: c.Address, Action: c.Action, Message: "not started: the run was interrupted"})
		return event.Interrupted, fmt.Errorf("%s: %w", c.Address, ErrInterrupted)
	}
	start := e.now()
	e.emit(event.Event{Type: event.Started, Address: c.Address, Action: c.Action})
	var err error
	if c.Action == plan.Delete {
		err = pr.Delete(ctx, c)
	} else {
		err = pr.Apply(ctx, c, out)
	}
	if err == nil {
		err = e.waveGate(ctx, p, c)
	}
	elapsed := e.now().Sub(start)
	if err != nil && ctx.Err() != nil {
		// Cut short by the user, not failed: a second `up` converges.
		e.emit(event.Event{Type: event.Interrupted, Address: c.Address, Action: c.Action, Elapsed: elapsed,
			Message: "cut short in flight; the next run converges"})
		return event.Interrupted, fmt.Errorf("%s: %w", c.Address, ErrInterrupted)
	}
	if err != nil {
		err = fmt.Errorf("%s: %s failed: %w", c.Address, c.Action, err)
		e.emit(event.Event{Type: event.Failed, Address: c.Address, Action: c.Action, Elapsed: elapsed, Err: err.Error()})
		return event.Failed, err
	}
	e.emit(event.Event{Type: event.Succeeded, Address: c.Address, Action: c.Action, Elapsed: elapsed})
	return event.Succeeded, nil
}

// Graph links every change of a plan (no-ops aside) to what it must wait
// for: the changes it depends on and those producing outputs it consumes;
// when tearing down, dependents go first.
func Graph(p *plan.Plan) (*graph.Graph[*plan.Change], error) {
	g := graph.New[*plan.Change]()
	byAddr := map[plan.Address]*plan.Change{}
	producers := map[string]*plan.Change{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action == plan.NoOp {
			continue
		}
		g.Add(c)
		byAddr[c.Address] = c
		for _, k := range c.Produces {
			producers[k] = c
		}
	}
	for _, n := range g.Nodes() {
		var deps []*plan.Change
		for _, a := range n.DependsOn {
			if d := byAddr[a]; d != nil {
				deps = append(deps, d)
			}
		}
		for _, k := range unknownsIn(n.After) {
			if d := producers[k]; d != nil && d != n {
				deps = append(deps, d)
			}
		}
		for _, d := range deps {
			if tearsDown(n.Action) && tearsDown(d.Action) {
				g.Connect(d, n)
				continue
			}
			g.Connect(n, d)
		}
	}
	connectWaves(g, p, byAddr)
	if cyc := g.Cycle(); cyc != nil {
		names := make([]string, len(cyc))
		for i, c := range cyc {
			names[i] = c.Address.String()
		}
		return nil, fmt.Errorf("changes depend on each other in a cycle: %s", strings.Join(names, " → "))
	}
	return g, nil
}

// tearsDown reports whether an action removes a resource from the stack, so
// that its dependents go first.
func tearsDown(a plan.Action) bool { return a == plan.Delete || a == plan.Keep }

// unknownsIn lists the output keys a document waits for.
func unknownsIn(v any) []string {
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case plan.Unknown:
			out = append(out, x.From)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	sort.Strings(out)
	return out
}

func (e *Engine) providerFor(a plan.Address) provider.Provider {
	for _, p := range e.Providers {
		if p.Name() == a.Provider && (p.Region() == "" || p.Region() == a.Region) {
			return p
		}
	}
	return nil
}

// Emit reports a run event (an empty address) or a resource's through the
// engine's sink, timed by its clock.
func (e *Engine) Emit(ev event.Event) { e.emit(ev) }

func (e *Engine) emit(ev event.Event) {
	if e.Events == nil {
		return
	}
	ev.Time = e.now()
	e.Events(ev)
}

// ErrInterrupted is wrapped by apply errors when the user interrupted the run.
var ErrInterrupted = errors.New("interrupted")

func listErrors(errs []error) string {
	lines := make([]string, 0, len(errs))
	for _, err := range errs {
		lines = append(lines, "  * "+err.Error())
	}
	return fmt.Sprintf("%d change(s) failed:\n%s", len(errs), strings.Join(lines, "\n"))
}

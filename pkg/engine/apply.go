package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-multierror"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Outcome is what happened to one change.
type Outcome struct {
	Change plan.Change
	Status event.Type // Succeeded, Failed or Skipped
	Err    error
}

// Result is the outcome of every change of an apply, in plan order.
type Result struct {
	Outcomes []Outcome
}

// Failed returns the changes that failed (not those skipped because of them).
func (r *Result) Failed() []Outcome { return r.with(event.Failed) }

// Skipped returns the changes not attempted because a dependency failed.
func (r *Result) Skipped() []Outcome { return r.with(event.Skipped) }

func (r *Result) with(t event.Type) []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Status == t {
			out = append(out, o)
		}
	}
	return out
}

// node is one change in the apply graph.
type node struct {
	change plan.Change
	deps   []*node
	done   chan struct{}
	status event.Type
	err    error
}

// Apply carries out exactly the plan's changes. A change runs after every
// change it depends on succeeded (explicitly, or by consuming an output
// another change produces); deletes run in reverse order. Dependents of a
// failure are skipped and reported once. Every failure is returned together.
func (e *Engine) Apply(ctx context.Context, pl *Planned) (*Result, error) {
	nodes, err := e.graph(pl.Plan)
	if err != nil {
		return nil, err
	}
	sem := make(chan struct{}, e.parallelism())
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(n.done)
			for _, d := range n.deps {
				<-d.done
				if d.status != event.Succeeded {
					n.status = event.Skipped
					n.err = fmt.Errorf("skipped: %s did not succeed", d.change.Address)
					e.emit(event.Event{Type: event.Skipped, Address: n.change.Address, Action: n.change.Action,
						Message: "depends on " + d.change.Address.String() + ", which did not succeed"})
					return
				}
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			n.status, n.err = e.applyOne(ctx, n.change, pl.Outputs)
		}()
	}
	wg.Wait()
	res := &Result{}
	var errs *multierror.Error
	for _, n := range nodes {
		res.Outcomes = append(res.Outcomes, Outcome{Change: n.change, Status: n.status, Err: n.err})
		if n.status == event.Failed {
			errs = multierror.Append(errs, n.err)
		}
	}
	if errs != nil {
		errs.ErrorFormat = listErrors
		return res, fmt.Errorf("%w: %w", ErrPartial, errs)
	}
	return res, nil
}

func (e *Engine) applyOne(ctx context.Context, c plan.Change, out provider.Outputs) (event.Type, error) {
	pr := e.providerFor(c.Address)
	if pr == nil {
		return event.Failed, fmt.Errorf("%s: no provider for this address", c.Address)
	}
	if err := ctx.Err(); err != nil {
		e.emit(event.Event{Type: event.Skipped, Address: c.Address, Action: c.Action, Message: "interrupted"})
		return event.Skipped, fmt.Errorf("%s: %w", c.Address, err)
	}
	start := e.now()
	e.emit(event.Event{Type: event.Started, Address: c.Address, Action: c.Action})
	var err error
	if c.Action == plan.Delete {
		err = pr.Delete(ctx, c)
	} else {
		err = pr.Apply(ctx, c, out)
	}
	elapsed := e.now().Sub(start)
	if err != nil {
		err = fmt.Errorf("%s: %s failed: %w", c.Address, c.Action, err)
		e.emit(event.Event{Type: event.Failed, Address: c.Address, Action: c.Action, Elapsed: elapsed, Err: err.Error()})
		return event.Failed, err
	}
	e.emit(event.Event{Type: event.Succeeded, Address: c.Address, Action: c.Action, Elapsed: elapsed})
	return event.Succeeded, nil
}

// graph links every change to what it must wait for.
func (e *Engine) graph(p *plan.Plan) ([]*node, error) {
	byAddr := map[plan.Address]*node{}
	producers := map[string]*node{}
	var nodes []*node
	for _, c := range p.Changes {
		if c.Action == plan.NoOp {
			continue
		}
		n := &node{change: c, done: make(chan struct{})}
		byAddr[c.Address] = n
		for _, k := range c.Produces {
			producers[k] = n
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		var deps []*node
		for _, a := range n.change.DependsOn {
			if d := byAddr[a]; d != nil {
				deps = append(deps, d)
			}
		}
		for _, k := range unknownsIn(n.change.After) {
			if d := producers[k]; d != nil && d != n {
				deps = append(deps, d)
			}
		}
		for _, d := range deps {
			if tearsDown(n.change.Action) && tearsDown(d.change.Action) {
				// Dependents go first when tearing down.
				d.deps = append(d.deps, n)
				continue
			}
			n.deps = append(n.deps, d)
		}
	}
	if cyc := findCycle(nodes); cyc != "" {
		return nil, fmt.Errorf("changes depend on each other in a cycle: %s", cyc)
	}
	return nodes, nil
}

// tearsDown reports whether an action removes a resource from the stack, so
// that its dependents go first.
func tearsDown(a plan.Action) bool { return a == plan.Delete || a == plan.Keep }

func findCycle(nodes []*node) string {
	const (
		white = iota
		grey
		black
	)
	color := map[*node]int{}
	var path []string
	var visit func(n *node) bool
	visit = func(n *node) bool {
		color[n] = grey
		path = append(path, n.change.Address.String())
		for _, d := range n.deps {
			if color[d] == grey || (color[d] == white && visit(d)) {
				return true
			}
		}
		path = path[:len(path)-1]
		color[n] = black
		return false
	}
	for _, n := range nodes {
		if color[n] == white && visit(n) {
			return strings.Join(path, " → ")
		}
	}
	return ""
}

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

func (e *Engine) emit(ev event.Event) {
	if e.Events == nil {
		return
	}
	ev.Time = e.now()
	e.Events(ev)
}

func listErrors(errs []error) string {
	lines := make([]string, 0, len(errs))
	for _, err := range errs {
		lines = append(lines, "  * "+err.Error())
	}
	return fmt.Sprintf("%d change(s) failed:\n%s", len(errs), strings.Join(lines, "\n"))
}

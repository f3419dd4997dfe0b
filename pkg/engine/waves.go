package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/graph"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Rollout stages the workload's changes in waves of regions: a wave's
// Deployments change only once every Deployment of the wave before it
// rolled out, its regions answer their health check, and it has baked.
// Everything else keeps its place in the dependency order.
type Rollout struct {
	Waves []Wave
	// RollBack: the regions of a failed wave go back to the revision
	// recorded before the change; otherwise they are left as they are.
	RollBack bool
	// Sleep waits out a bake; nil means a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Wave is a set of regions and how long they must stay healthy before the
// next wave starts.
type Wave struct {
	Regions []string
	Bake    time.Duration
}

// RolledBack is one region a failed wave put back on its recorded revision.
type RolledBack struct {
	Region string
	// Reason is why its wave failed.
	Reason string
	Change plan.Change
	// Err is set when the rollback itself failed.
	Err error
}

// isWorkload reports a change that a rollout stages: the workload's
// Deployment, created or changed.
func isWorkload(c plan.Change) bool {
	if c.Address.Provider != "kubernetes" || c.Address.Kind != "Deployment" {
		return false
	}
	switch c.Action {
	case plan.Create, plan.Update, plan.Replace, plan.Adopt:
		return true
	}
	return false
}

// describe lays the plan's workload changes out in waves.
func (r *Rollout) describe(p *plan.Plan) *plan.Rollout {
	out := &plan.Rollout{OnFailure: "stop"}
	if r.RollBack {
		out.OnFailure = "rollback"
	}
	for i, w := range r.Waves {
		pw := plan.Wave{Number: i + 1, Regions: append([]string(nil), w.Regions...)}
		if w.Bake > 0 {
			pw.Bake = w.Bake.String()
		}
		in := map[string]bool{}
		for _, reg := range w.Regions {
			in[reg] = true
		}
		for _, c := range p.Changes {
			if isWorkload(c) && in[c.Address.Region] {
				pw.Changes = append(pw.Changes, c.Address)
			}
		}
		out.Waves = append(out.Waves, pw)
	}
	return out
}

// connectWaves makes every workload change of a wave wait for those of the
// nearest earlier wave that has any.
func connectWaves(g *graph.Graph[*plan.Change], p *plan.Plan, byAddr map[plan.Address]*plan.Change) {
	if p.Rollout == nil {
		return
	}
	var prev []*plan.Change
	for _, w := range p.Rollout.Waves {
		var cur []*plan.Change
		for _, a := range w.Changes {
			if c := byAddr[a]; c != nil {
				cur = append(cur, c)
			}
		}
		if len(cur) == 0 {
			continue
		}
		for _, c := range cur {
			for _, d := range prev {
				g.Connect(c, d)
			}
		}
		prev = cur
	}
}

// waveGate runs after a staged change rolled out: the region must answer
// its health check, then the wave's bake time passes. An error fails the
// change, so that the later waves do not start.
func (e *Engine) waveGate(ctx context.Context, p *plan.Plan, c plan.Change) error {
	n := p.Rollout.WaveOf(c.Address)
	if n == 0 || e.Rollout == nil {
		return nil
	}
	if rb, ok := e.providerFor(c.Address).(provider.RollBacker); ok {
		if err := rb.RolloutHealthy(ctx); err != nil {
			return fmt.Errorf("%s: wave %d is not healthy: %w", c.Address, n, err)
		}
	}
	bake := e.Rollout.Waves[n-1].Bake
	if bake <= 0 {
		return nil
	}
	e.emit(event.Event{Type: event.Progress, Address: c.Address, Action: c.Action,
		Message: fmt.Sprintf("wave %d healthy; baking for %s", n, bake)})
	sleep := e.Rollout.Sleep
	if sleep == nil {
		sleep = ctxtime.Sleep
	}
	if err := sleep(ctx, bake); err != nil {
		return fmt.Errorf("%s: wave %d: baking: %w", c.Address, n, err)
	}
	return nil
}

// rollBackFailed puts the regions whose staged change failed back on their
// recorded revision, at once, and says which and why.
func (e *Engine) rollBackFailed(ctx context.Context, p *plan.Plan, res *Result) []RolledBack {
	if e.Rollout == nil || !e.Rollout.RollBack || p.Rollout == nil || ctx.Err() != nil {
		return nil
	}
	var todo []RolledBack
	for _, o := range res.Failed() {
		if p.Rollout.WaveOf(o.Change.Address) == 0 || o.Change.Action == plan.Create {
			continue
		}
		todo = append(todo, RolledBack{Region: o.Change.Address.Region, Reason: o.Err.Error(), Change: o.Change})
	}
	done := make(chan struct{}, len(todo))
	for i := range todo {
		go func() {
			defer func() { done <- struct{}{} }()
			todo[i].Change, todo[i].Err = e.rollBackOne(ctx, todo[i].Change.Address)
		}()
	}
	for range todo {
		<-done
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].Region < todo[j].Region })
	return todo
}

// rollBackOne plans and carries out the rollback of one region.
func (e *Engine) rollBackOne(ctx context.Context, addr plan.Address) (plan.Change, error) {
	rb, ok := e.providerFor(addr).(provider.RollBacker)
	if !ok {
		return plan.Change{Address: addr}, fmt.Errorf("%s: cannot be rolled back", addr)
	}
	c, err := rb.PlanRollback(ctx)
	if err != nil {
		return c, err
	}
	return c, e.runRollback(ctx, rb, c)
}

// runRollback carries out one planned rollback with its events.
func (e *Engine) runRollback(ctx context.Context, rb provider.RollBacker, c plan.Change) error {
	if c.Action == plan.NoOp {
		return nil
	}
	start := e.now()
	e.emit(event.Event{Type: event.Started, Address: c.Address, Action: c.Action, Message: "rolling back: " + c.Reason})
	if err := rb.RollBack(ctx, c); err != nil {
		e.emit(event.Event{Type: event.Failed, Address: c.Address, Action: c.Action, Elapsed: e.now().Sub(start),
			Err: "rollback failed: " + err.Error()})
		return err
	}
	e.emit(event.Event{Type: event.Succeeded, Address: c.Address, Action: c.Action, Elapsed: e.now().Sub(start),
		Message: "rolled back"})
	return nil
}

// rollbackError says which regions were rolled back and why.
func rollbackError(rolled []RolledBack) error {
	if len(rolled) == 0 {
		return nil
	}
	lines := make([]string, 0, len(rolled))
	for _, r := range rolled {
		switch {
		case r.Err != nil:
			lines = append(lines, fmt.Sprintf("  * region %s could not be rolled back: %v (its wave failed: %s)", r.Region, r.Err, r.Reason))
		case r.Change.Action == plan.NoOp:
			lines = append(lines, fmt.Sprintf("  * region %s %s (its wave failed: %s)", r.Region, r.Change.Reason, r.Reason))
		default:
			lines = append(lines, fmt.Sprintf("  * region %s was rolled back: %s, because %s", r.Region, strings.TrimPrefix(r.Change.Reason, "roll back to "), r.Reason))
		}
	}
	return fmt.Errorf("the rollout stopped; %d region(s) rolled back:\n%s", len(rolled), strings.Join(lines, "\n"))
}

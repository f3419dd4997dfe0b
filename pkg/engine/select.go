package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/graph"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// PlanSelected plans like Plan and narrows the result to sel (see Select).
// With regions selected, the Kubernetes providers of the other regions are
// not read at all: no selected change can need them, since a region's
// changes only wait for their own region and the global providers.
func (e *Engine) PlanSelected(ctx context.Context, stack string, opts provider.Options, sel plan.Selection) (*Planned, error) {
	if sel.Empty() {
		return e.Plan(ctx, stack, opts), nil
	}
	if _, _, err := parsePatterns(sel); err != nil {
		return nil, err
	}
	planned := e.ForRegions(sel.Regions).Plan(ctx, stack, opts)
	if err := Select(planned.Plan, sel); err != nil {
		return nil, err
	}
	return planned, nil
}

// ForRegions returns an engine over the global providers and those of the
// given regions only; with no regions, e itself.
func (e *Engine) ForRegions(regions []string) *Engine {
	if len(regions) == 0 {
		return e
	}
	narrowed := *e
	narrowed.Providers = nil
	for _, pr := range e.Providers {
		if pr.Region() == "" || slices.Contains(regions, pr.Region()) {
			narrowed.Providers = append(narrowed.Providers, pr)
		}
	}
	return &narrowed
}

// Select narrows a plan to the changes sel picks and the changes those need.
// A change is picked when it is in one of the regions (if any are given),
// matches one of the targets (if any) and matches no exclude. Every change a
// picked one waits for, transitively (the apply graph's edges: dependencies,
// outputs consumed, dependents first on teardown), is pulled in and names
// the change that needs it in PulledInBy. An excluded change takes the
// changes that need it out too, each reported in an info diagnostic.
// Everything else, deletes and prunes included, leaves the plan. A region,
// target or exclude that matches no address of the plan is an error naming it.
func Select(p *plan.Plan, sel plan.Selection) error {
	if sel.Empty() {
		return nil
	}
	targets, excludes, err := parsePatterns(sel)
	if err != nil {
		return err
	}
	var unmatched []string
	inRegions := func(a plan.Address) bool { return len(sel.Regions) == 0 || slices.Contains(sel.Regions, a.Region) }
	for _, r := range sel.Regions {
		if !slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return c.Address.Region == r }) {
			unmatched = append(unmatched, "--region "+r)
		}
	}
	for _, t := range targets {
		if !slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return inRegions(c.Address) && t.Match(c.Address) }) {
			unmatched = append(unmatched, "--target "+t.String())
		}
	}
	for _, x := range excludes {
		if !slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return x.Match(c.Address) }) {
			unmatched = append(unmatched, "--exclude "+x.String())
		}
	}
	if len(unmatched) > 0 {
		return unmatchedError(p, unmatched)
	}

	// Rollout waves order regions, they are not dependencies: a selection
	// never pulls another region's workload in because of its wave.
	unstaged := *p
	unstaged.Rollout = nil
	g, err := Graph(&unstaged)
	if err != nil {
		return err
	}
	picked := map[plan.Address]bool{}
	var roots, excluded []*plan.Change
	for i := range p.Changes {
		c := &p.Changes[i]
		switch {
		case matchesAny(excludes, c.Address):
			if g.Has(c) {
				excluded = append(excluded, c)
			}
		case inRegions(c.Address) && (len(targets) == 0 || matchesAny(targets, c.Address)):
			picked[c.Address] = true
			if g.Has(c) {
				roots = append(roots, c)
			}
		}
	}
	var notes []plan.Diagnostic
	if len(excluded) > 0 {
		needy := map[*plan.Change]bool{}
		for _, d := range g.Dependents(excluded) {
			needy[d] = true
		}
		kept := roots[:0]
		for _, r := range roots {
			if !needy[r] {
				kept = append(kept, r)
				continue
			}
			delete(picked, r.Address)
			notes = append(notes, leftOut(g, r, excluded))
		}
		roots = kept
	}
	sub, pulledBy := g.Subgraph(roots)
	out := make([]plan.Change, 0, len(sub.Nodes()))
	for i := range p.Changes {
		c := &p.Changes[i]
		switch {
		case sub.Has(c):
			if by, ok := pulledBy[c]; ok {
				a := by.Address
				c.PulledInBy = &a
			}
		case c.Action != plan.NoOp || !picked[c.Address]:
			continue
		}
		out = append(out, *c)
	}
	p.Changes = out
	p.Rollout = selectWaves(p.Rollout, out)
	p.Diagnostics = append(p.Diagnostics, notes...)
	p.Selection = &sel
	return nil
}

// selectWaves keeps the waves, and the changes in them, that the selection
// kept; nil when none is left.
func selectWaves(r *plan.Rollout, kept []plan.Change) *plan.Rollout {
	if r == nil {
		return nil
	}
	in := map[plan.Address]bool{}
	for _, c := range kept {
		in[c.Address] = true
	}
	out := &plan.Rollout{OnFailure: r.OnFailure}
	for _, w := range r.Waves {
		var changes []plan.Address
		var regions []string
		for _, a := range w.Changes {
			if in[a] {
				changes = append(changes, a)
				if !slices.Contains(regions, a.Region) {
					regions = append(regions, a.Region)
				}
			}
		}
		if len(changes) > 0 {
			w.Changes, w.Regions = changes, regions
			out.Waves = append(out.Waves, w)
		}
	}
	if len(out.Waves) == 0 {
		return nil
	}
	return out
}

func parsePatterns(sel plan.Selection) (targets, excludes []plan.Pattern, err error) {
	parse := func(flag string, in []string) ([]plan.Pattern, error) {
		out := make([]plan.Pattern, 0, len(in))
		for _, s := range in {
			pat, err := plan.ParsePattern(s)
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", flag, err)
			}
			out = append(out, pat)
		}
		return out, nil
	}
	if targets, err = parse("target", sel.Targets); err != nil {
		return nil, nil, err
	}
	excludes, err = parse("exclude", sel.Excludes)
	return targets, excludes, err
}

func matchesAny(pats []plan.Pattern, a plan.Address) bool {
	return slices.ContainsFunc(pats, func(p plan.Pattern) bool { return p.Match(a) })
}

// leftOut says which excluded change keeps a picked one out of the plan.
func leftOut(g *graph.Graph[*plan.Change], c *plan.Change, excluded []*plan.Change) plan.Diagnostic {
	needs, _ := g.Subgraph([]*plan.Change{c})
	blocker := "an excluded change"
	for _, x := range excluded {
		if needs.Has(x) {
			blocker = x.Address.String()
			break
		}
	}
	return plan.Diagnostic{Severity: plan.SeverityInfo, Provider: c.Address.Provider, Region: c.Address.Region,
		Message: fmt.Sprintf("left out: %s needs %s, which --exclude leaves out", c.Address, blocker)}
}

// unmatchedError names every selector that matched nothing. When reading
// failed somewhere, the addresses of that part are unknown, so the error
// says so rather than let it look like a typo.
func unmatchedError(p *plan.Plan, unmatched []string) error {
	msg := fmt.Sprintf("nothing was planned: %s matches no resource of stack %q", strings.Join(unmatched, ", "), p.Stack)
	if len(unmatched) > 1 {
		msg = fmt.Sprintf("nothing was planned: %s match no resource of stack %q", strings.Join(unmatched, ", "), p.Stack)
	}
	var failed []string
	for _, d := range p.Diagnostics {
		if d.Severity == plan.SeverityError {
			failed = append(failed, "  * "+d.Message)
		}
	}
	if len(failed) > 0 {
		msg += " (reading the live state failed, so some addresses are unknown):\n" + strings.Join(failed, "\n")
	} else {
		msg += " (addresses are those the plan prints, e.g. kubernetes[region/us-east].Deployment[\"neko-defense/neko-api\"], or kubernetes.us-east.Deployment)"
	}
	return fmt.Errorf("%s", msg)
}

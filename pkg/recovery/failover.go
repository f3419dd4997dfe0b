// Package recovery holds what the recovery commands (failover, drill,
// restore) decide beyond the providers: the change set of a failover, the
// measurements of a drill and the recovery objectives they are held to.
package recovery

import (
	"fmt"
	"maps"
	"sort"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
)

// lbPoolFields are the load balancer fields a failover moves.
var lbPoolFields = []string{"default_pools", "fallback_pool", "region_pools"}

// FailoverChanges keeps, of a plan made for a failover layout (see
// spec.Stack.WithPrimary) or for the spec's own layout (--back), only what
// a failover moves: the Atlas cluster's election priorities and the load
// balancer's default, fallback and geo pools. Every other difference
// between the spec and the live stack (a tier, a zone setting, an image) is
// left to `up`: each kept change is the live document with those fields
// replaced, so applying it sends nothing else. Error diagnostics are kept.
func FailoverChanges(p *plan.Plan) (*plan.Plan, error) {
	out := &plan.Plan{Stack: p.Stack, Changes: []plan.Change{}}
	for _, d := range p.Diagnostics {
		if d.Severity == plan.SeverityError {
			out.Diagnostics = append(out.Diagnostics, d)
		}
	}
	found := map[string]bool{}
	for _, c := range p.Changes {
		var kept *plan.Change
		var err error
		switch {
		case c.Address.Provider == atlas.Name && c.Address.Kind == atlas.KindCluster:
			found["the Atlas cluster"] = true
			kept, err = priorityChange(c)
		case c.Address.Provider == cloudflare.Name && c.Address.Kind == cloudflare.KindLB:
			found["the load balancer"] = true
			kept, err = poolChange(c)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Address, err)
		}
		if kept != nil {
			out.Changes = append(out.Changes, *kept)
		}
	}
	if !p.HasErrors() {
		for _, what := range []string{"the Atlas cluster", "the load balancer"} {
			if !found[what] {
				return nil, fmt.Errorf("%s of this stack was not found: run 'nekoctl up' first", what)
			}
		}
	}
	out.Sort()
	return out, nil
}

// priorityChange is the live cluster with the planned priorities.
func priorityChange(c plan.Change) (*plan.Change, error) {
	if err := needsLive(c); err != nil || c.Action == plan.NoOp {
		return nil, err
	}
	before, _ := c.Before["regions"].(plan.Document)
	want, _ := c.After["regions"].(plan.Document)
	if !sameKeys(before, want) {
		return nil, fmt.Errorf("the cluster's regions (%v) differ from the spec's (%v): run 'nekoctl up' first",
			sortedKeys(before), sortedKeys(want))
	}
	regions := plan.Document{}
	for k, v := range before {
		r := maps.Clone(v.(plan.Document))
		r["priority"] = want[k].(plan.Document)["priority"]
		regions[k] = r
	}
	after := maps.Clone(c.Before)
	after["regions"] = regions
	return narrowed(c, after), nil
}

// poolChange is the live load balancer with the planned pools.
func poolChange(c plan.Change) (*plan.Change, error) {
	if err := needsLive(c); err != nil || c.Action == plan.NoOp {
		return nil, err
	}
	after := maps.Clone(c.Before)
	for _, k := range lbPoolFields {
		after[k] = c.After[k]
	}
	return narrowed(c, after), nil
}

func needsLive(c plan.Change) error {
	switch c.Action {
	case plan.NoOp, plan.Update:
		return nil
	case plan.Create:
		return fmt.Errorf("does not exist: run 'nekoctl up' first")
	}
	return fmt.Errorf("is planned as %s, not an update: run 'nekoctl plan' to see why", c.Action)
}

// narrowed returns c applying after instead, or nil when that changes nothing.
func narrowed(c plan.Change, after plan.Document) *plan.Change {
	fields := plan.DiffDocuments(c.Before, after, false)
	if len(fields) == 0 {
		return nil
	}
	c.After, c.Fields, c.Notes = after, fields, nil
	return &c
}

func sameKeys(a, b plan.Document) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func sortedKeys(d plan.Document) []string {
	out := make([]string, 0, len(d))
	for k := range d {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

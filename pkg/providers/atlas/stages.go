package atlas

import (
	"sort"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// topology is electable and read-only node counts and priority per region key.
type topology map[string]regionNodes

type regionNodes struct{ electable, readOnly, priority int }

func regionsOf(doc plan.Document) topology {
	t := topology{}
	rs, _ := doc["regions"].(plan.Document)
	for k, v := range rs {
		d := v.(plan.Document)
		t[k] = regionNodes{electable: num(d["electableNodes"]), readOnly: num(d["readOnlyNodes"]), priority: num(d["priority"])}
	}
	return t
}

func num(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	}
	return 0
}

func (t topology) electable() int {
	n := 0
	for _, r := range t {
		n += r.electable
	}
	return n
}

// stages returns the topologies to go through from cur to tgt, the last
// being tgt. Each step keeps a majority of the electable nodes of the step
// before: grow first, then move at most a minority of nodes per step, then
// shrink. A single step means one PATCH.
func stages(cur, tgt topology) []topology {
	state := topology{}
	for k, r := range cur {
		state[k] = r
	}
	var out []topology
	for i := 0; i < 8 && !sameElectable(state, tgt); i++ {
		n := state.electable()
		next := topology{}
		for k, r := range state {
			next[k] = r
		}
		deficit, surplus := diffKeys(state, tgt)
		dSum, sSum := 0, 0
		for _, k := range deficit {
			dSum += tgt[k].electable - state[k].electable
		}
		for _, k := range surplus {
			sSum += state[k].electable - tgt[k].electable
		}
		switch {
		case tgt.electable() > n: // grow: adding keeps every current node
			moveNodes(next, deficit, tgt.electable()-n, nil, 0, tgt)
		case dSum > 0 && sSum > 0: // move at most a minority at once
			m := min((n-1)/2, dSum, sSum)
			moveNodes(next, deficit, m, surplus, m, tgt)
		default: // shrink two at a time: 7 to 5 to 3
			moveNodes(next, nil, 0, surplus, min(n-tgt.electable(), 2), tgt)
		}
		if sameElectable(next, tgt) {
			break
		}
		out = append(out, next)
		state = next
	}
	return append(out, tgt)
}

func sameElectable(a, b topology) bool {
	for k := range a {
		if a[k].electable != b[k].electable {
			return false
		}
	}
	for k := range b {
		if a[k].electable != b[k].electable {
			return false
		}
	}
	return true
}

func diffKeys(state, tgt topology) (deficit, surplus []string) {
	keys := map[string]bool{}
	for k := range state {
		keys[k] = true
	}
	for k := range tgt {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		switch d := tgt[k].electable - state[k].electable; {
		case d > 0:
			deficit = append(deficit, k)
		case d < 0:
			surplus = append(surplus, k)
		}
	}
	return deficit, surplus
}

// moveNodes adds add nodes to deficit regions and removes remove nodes
// from surplus regions, never past the target.
func moveNodes(next topology, deficit []string, add int, surplus []string, remove int, tgt topology) {
	for _, k := range deficit {
		for add > 0 && next[k].electable < tgt[k].electable {
			r := next[k]
			r.electable++
			next[k] = r
			add--
		}
	}
	for _, k := range surplus {
		for remove > 0 && next[k].electable > tgt[k].electable {
			r := next[k]
			r.electable--
			next[k] = r
			remove--
		}
	}
}

func topologyOf(doc plan.Document) topology { return regionsOf(doc) }

func liveTopology(c *admin.ClusterDescription20240805) topology { return regionsOf(liveClusterDoc(c)) }

// withStagePriorities gives an intermediate step valid priorities: target
// regions first in target order, then regions on their way out, 7 down.
func withStagePriorities(step, tgt topology) topology {
	keys := make([]string, 0, len(step))
	for k, r := range step {
		if r.electable > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		pi, pj := tgt[keys[i]].priority, tgt[keys[j]].priority
		if pi != pj {
			return pi > pj
		}
		return keys[i] < keys[j]
	})
	out := topology{}
	for i, k := range keys {
		r := step[k]
		r.priority = 7 - i
		r.readOnly = tgt[k].readOnly
		out[k] = r
	}
	for k, r := range tgt {
		if _, ok := out[k]; !ok && r.readOnly > 0 {
			out[k] = regionNodes{readOnly: r.readOnly}
		}
	}
	return out
}

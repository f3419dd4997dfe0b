// Package graph is a dependency graph of comparable nodes: built edge by
// edge, checked for cycles, cut down to what some nodes need, and walked with
// a cap on how many nodes run at once.
package graph

import (
	"sync"
)

// Graph holds nodes in insertion order and, for each, the nodes it waits for.
type Graph[K comparable] struct {
	nodes []K
	index map[K]int
	deps  map[K][]K
}

// New returns an empty graph.
func New[K comparable]() *Graph[K] {
	return &Graph[K]{index: map[K]int{}, deps: map[K][]K{}}
}

// Add adds a node; adding one twice keeps the first.
func (g *Graph[K]) Add(n K) {
	if _, ok := g.index[n]; ok {
		return
	}
	g.index[n] = len(g.nodes)
	g.nodes = append(g.nodes, n)
}

// Has reports whether n is a node.
func (g *Graph[K]) Has(n K) bool {
	_, ok := g.index[n]
	return ok
}

// Connect makes n wait for dep. Both must have been added; an edge given
// twice is kept once.
func (g *Graph[K]) Connect(n, dep K) {
	for _, d := range g.deps[n] {
		if d == dep {
			return
		}
	}
	g.deps[n] = append(g.deps[n], dep)
}

// Nodes returns the nodes in insertion order.
func (g *Graph[K]) Nodes() []K { return append([]K(nil), g.nodes...) }

// DependsOn returns what n waits for, in the order the edges were made.
func (g *Graph[K]) DependsOn(n K) []K { return append([]K(nil), g.deps[n]...) }

// Cycle returns the nodes of one cycle, first node repeated last, or nil
// when the graph has none.
func (g *Graph[K]) Cycle() []K {
	const (
		white = iota
		grey
		black
	)
	color := map[K]int{}
	var path []K
	var visit func(n K) []K
	visit = func(n K) []K {
		color[n] = grey
		path = append(path, n)
		for _, d := range g.deps[n] {
			switch color[d] {
			case grey:
				for i, p := range path {
					if p == d {
						return append(append([]K(nil), path[i:]...), d)
					}
				}
			case white:
				if c := visit(d); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		color[n] = black
		return nil
	}
	for _, n := range g.nodes {
		if color[n] == white {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}

// Subgraph keeps the roots and everything they wait for, transitively, with
// the edges between them. pulledBy tells, for each node kept only because
// another needs it, the first kept node found waiting for it.
func (g *Graph[K]) Subgraph(roots []K) (sub *Graph[K], pulledBy map[K]K) {
	keep := map[K]bool{}
	pulledBy = map[K]K{}
	queue := []K{}
	for _, r := range roots {
		if g.Has(r) && !keep[r] {
			keep[r] = true
			queue = append(queue, r)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, d := range g.deps[n] {
			if !keep[d] {
				keep[d] = true
				pulledBy[d] = n
				queue = append(queue, d)
			}
		}
	}
	sub = New[K]()
	for _, n := range g.nodes {
		if keep[n] {
			sub.Add(n)
		}
	}
	for _, n := range sub.nodes {
		for _, d := range g.deps[n] {
			sub.Connect(n, d)
		}
	}
	return sub, pulledBy
}

// Dependents returns the nodes that wait, transitively, for any of nodes.
func (g *Graph[K]) Dependents(nodes []K) []K {
	hit := map[K]bool{}
	for _, n := range nodes {
		hit[n] = true
	}
	var out []K
	for changed := true; changed; {
		changed = false
		for _, n := range g.nodes {
			if hit[n] {
				continue
			}
			for _, d := range g.deps[n] {
				if hit[d] {
					hit[n], changed = true, true
					out = append(out, n)
					break
				}
			}
		}
	}
	return out
}

// Result is what happened to one node of a walk.
type Result[K comparable] struct {
	Node K
	// Err is what visit returned; nil when it succeeded or was not called.
	Err error
	// Skipped nodes were not visited because Blocker, one of the nodes they
	// wait for, failed or was skipped itself.
	Skipped bool
	Blocker K
}

// Walk visits every node once all the nodes it waits for succeeded, with at
// most limit visits at once. A node waiting for one that failed or was
// skipped is not visited: onSkip (if not nil) hears of it when that is known.
// The results are in insertion order. The graph must have no cycle.
func (g *Graph[K]) Walk(limit int, visit func(K) error, onSkip func(n, blocker K)) []Result[K] {
	return g.WalkLanes(limit, func(K) string { return "" }, visit, onSkip)
}

// WalkLanes walks as Walk does, with the cap applying to each lane on its
// own: nodes of different lanes (one per remote endpoint, say) never wait
// for each other's slots, so that the work of many endpoints proceeds at
// once while each endpoint sees at most limit visits.
func (g *Graph[K]) WalkLanes(limit int, lane func(K) string, visit func(K) error, onSkip func(n, blocker K)) []Result[K] {
	if limit < 1 {
		limit = 1
	}
	results := make([]Result[K], len(g.nodes))
	done := make([]chan struct{}, len(g.nodes))
	sems := make([]chan struct{}, len(g.nodes))
	byLane := map[string]chan struct{}{}
	for i, n := range g.nodes {
		done[i] = make(chan struct{})
		l := lane(n)
		if byLane[l] == nil {
			byLane[l] = make(chan struct{}, limit)
		}
		sems[i] = byLane[l]
	}
	var wg sync.WaitGroup
	for i, n := range g.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			r := &results[i]
			r.Node = n
			for _, d := range g.deps[n] {
				j := g.index[d]
				<-done[j]
				if dr := results[j]; dr.Skipped || dr.Err != nil {
					r.Skipped, r.Blocker = true, d
					if onSkip != nil {
						onSkip(n, d)
					}
					return
				}
			}
			sems[i] <- struct{}{}
			defer func() { <-sems[i] }()
			r.Err = visit(n)
		}()
	}
	wg.Wait()
	return results
}

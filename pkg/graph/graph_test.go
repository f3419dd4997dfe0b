package graph

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// build makes a graph from "n:dep,dep" specs.
func build(edges map[string][]string, order ...string) *Graph[string] {
	g := New[string]()
	for _, n := range order {
		g.Add(n)
	}
	for _, n := range order {
		for _, d := range edges[n] {
			g.Connect(n, d)
		}
	}
	return g
}

func TestBuild(t *testing.T) {
	g := build(map[string][]string{"b": {"a", "a"}, "c": {"a", "b"}}, "a", "b", "c")
	g.Add("a")
	if diff := cmp.Diff([]string{"a", "b", "c"}, g.Nodes()); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, g.DependsOn("b")); diff != "" {
		t.Errorf("a repeated edge is kept twice (-want +got):\n%s", diff)
	}
	if !g.Has("c") || g.Has("d") {
		t.Error("Has is wrong")
	}
}

func TestCycle(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edges map[string][]string
		want  []string
	}{
		{"none", map[string][]string{"b": {"a"}, "c": {"a", "b"}}, nil},
		{"self", map[string][]string{"a": {"a"}}, []string{"a", "a"}},
		{"three", map[string][]string{"a": {"c"}, "b": {"a"}, "c": {"b"}}, []string{"a", "c", "b", "a"}},
		{"behind a clean node", map[string][]string{"b": {"c"}, "c": {"d"}, "d": {"b"}}, []string{"b", "c", "d", "b"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := build(tt.edges, "a", "b", "c", "d").Cycle()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Cycle (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSubgraph(t *testing.T) {
	// web needs api, api needs db and cache; dns needs web; metrics is alone.
	g := build(map[string][]string{"api": {"db", "cache"}, "web": {"api"}, "dns": {"web"}},
		"db", "cache", "api", "web", "dns", "metrics")
	sub, pulled := g.Subgraph([]string{"web", "nothing"})
	if diff := cmp.Diff([]string{"db", "cache", "api", "web"}, sub.Nodes()); diff != "" {
		t.Errorf("Nodes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"api": "web", "db": "api", "cache": "api"}, pulled); diff != "" {
		t.Errorf("pulledBy (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"db", "cache"}, sub.DependsOn("api")); diff != "" {
		t.Errorf("edges not kept (-want +got):\n%s", diff)
	}
	deps := g.Dependents([]string{"api"})
	sort.Strings(deps)
	if diff := cmp.Diff([]string{"dns", "web"}, deps); diff != "" {
		t.Errorf("Dependents (-want +got):\n%s", diff)
	}
}

func TestWalkOrdersAndSkips(t *testing.T) {
	g := build(map[string][]string{"api": {"db", "cache"}, "web": {"api"}, "dns": {"web"}, "metrics": {"cache"}},
		"db", "cache", "api", "web", "dns", "metrics")
	var mu sync.Mutex
	var order []string
	var skipped []string
	results := g.Walk(2, func(n string) error {
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
		if n == "api" {
			return errors.New("api failed")
		}
		return nil
	}, func(n, blocker string) {
		mu.Lock()
		skipped = append(skipped, n+"<-"+blocker)
		mu.Unlock()
	})
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if pos["api"] < pos["db"] || pos["api"] < pos["cache"] || pos["metrics"] < pos["cache"] {
		t.Errorf("visited before its dependencies: %v", order)
	}
	sort.Strings(skipped)
	if diff := cmp.Diff([]string{"dns<-web", "web<-api"}, skipped); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
	byNode := map[string]Result[string]{}
	for _, r := range results {
		byNode[r.Node] = r
	}
	if r := byNode["api"]; r.Err == nil || r.Skipped {
		t.Errorf("api = %+v", r)
	}
	if r := byNode["dns"]; !r.Skipped || r.Blocker != "web" {
		t.Errorf("dns = %+v, want skipped for web", r)
	}
	if r := byNode["metrics"]; r.Err != nil || r.Skipped {
		t.Errorf("metrics = %+v, want done", r)
	}
}

func TestWalkLimit(t *testing.T) {
	g := New[int]()
	for i := range 20 {
		g.Add(i)
	}
	var inFlight, most atomic.Int32
	g.Walk(3, func(int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		return nil
	}, nil)
	if m := most.Load(); m != 3 {
		t.Errorf("at most %d at once, want 3", m)
	}
}

// TestWalkLanes: the cap holds within each lane, and lanes do not wait for
// each other's slots.
func TestWalkLanes(t *testing.T) {
	g := New[int]()
	for i := range 30 {
		g.Add(i)
	}
	var mu sync.Mutex
	inFlight, most := map[int]int{}, map[int]int{}
	total, mostTotal := 0, 0
	g.WalkLanes(2, func(n int) string { return fmt.Sprint(n % 3) }, func(n int) error {
		mu.Lock()
		inFlight[n%3]++
		total++
		most[n%3] = max(most[n%3], inFlight[n%3])
		mostTotal = max(mostTotal, total)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		inFlight[n%3]--
		total--
		mu.Unlock()
		return nil
	}, nil)
	if diff := cmp.Diff(map[int]int{0: 2, 1: 2, 2: 2}, most); diff != "" {
		t.Errorf("most at once per lane (-want +got):\n%s", diff)
	}
	if mostTotal <= 2 {
		t.Errorf("at most %d at once over all lanes: the lanes waited for each other", mostTotal)
	}
}

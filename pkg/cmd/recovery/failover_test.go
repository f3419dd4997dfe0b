package recovery

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
)

// layout is what a failover moves, read from the emulators: Atlas
// priorities by region key, the elected primary, and the load balancer's
// pools by region name.
type layout struct {
	Priorities map[string]int
	Primary    string
	Defaults   []string
	Fallback   string
	ENAM       []string
}

func (w *world) layout(t *testing.T) layout {
	t.Helper()
	gid := w.projectID(t)
	doc, ok := w.Atlas.ClusterDoc(gid, "neko-global")
	if !ok {
		t.Fatal("no cluster")
	}
	l := layout{Priorities: map[string]int{}, Primary: w.Atlas.PrimaryRegion(gid, "neko-global")}
	for _, rc := range (*doc.ReplicationSpecs)[0].RegionConfigs {
		l.Priorities[rc.RegionName] = *rc.Priority
	}
	names := map[string]string{}
	for _, p := range w.CF.Pools() {
		names[p.ID] = strings.TrimPrefix(p.Name, cloudflare.PoolName("neko-defense", ""))
	}
	lbs := w.CF.LoadBalancers("nekodefense.example")
	if len(lbs) != 1 {
		t.Fatalf("%d load balancers", len(lbs))
	}
	for _, id := range lbs[0].DefaultPools {
		l.Defaults = append(l.Defaults, names[id])
	}
	for _, id := range lbs[0].RegionPools["ENAM"] {
		l.ENAM = append(l.ENAM, names[id])
	}
	l.Fallback = names[lbs[0].FallbackPool]
	return l
}

// TestRecoveryJourney brings the guide's stack up once and then runs the
// recovery commands against it, each leaving the stack as it found it.
func TestRecoveryJourney(t *testing.T) {
	w := newWorld(t)
	w.up(t)
	spec := w.layout(t)
	want := layout{Priorities: map[string]int{"US_EAST_1": 7, "EU_WEST_1": 6, "AP_NORTHEAST_1": 5}, Primary: "AWS/US_EAST_1",
		Defaults: []string{"us-east", "eu-west", "asia-pacific"}, Fallback: "us-east", ENAM: []string{"us-east", "eu-west", "asia-pacific"}}
	if d := cmp.Diff(want, spec); d != "" {
		t.Fatalf("after up (-want +got):\n%s", d)
	}
	t.Run("failover", func(t *testing.T) { testFailover(t, w, spec) })
	t.Run("region-loss drill", func(t *testing.T) { testRegionLossDrill(t, w) })
	t.Run("pod-loss drill", func(t *testing.T) { testPodLossDrill(t, w) })
	t.Run("restore", func(t *testing.T) { testRestore(t, w) })
}

func testFailover(t *testing.T, w *world, spec layout) {
	w.Atlas.ResetCounts()
	out, errOut, err := w.cli(t, "failover", "--to", "eu-west", "--yes")
	if err != nil {
		t.Fatalf("failover: %v\n%s%s", err, out, errOut)
	}
	for _, s := range []string{"regions.AWS/EU_WEST_1.priority", "default_pools", "fallback_pool", "The primary is now eu-west", "primary: true on eu-west"} {
		if !strings.Contains(out, s) {
			t.Errorf("failover output lacks %q:\n%s", s, out)
		}
	}
	moved := layout{Priorities: map[string]int{"US_EAST_1": 6, "EU_WEST_1": 7, "AP_NORTHEAST_1": 5}, Primary: "AWS/EU_WEST_1",
		Defaults: []string{"eu-west", "us-east", "asia-pacific"}, Fallback: "eu-west", ENAM: []string{"us-east", "eu-west", "asia-pacific"}}
	if d := cmp.Diff(moved, w.layout(t)); d != "" {
		t.Fatalf("after failover (-want +got):\n%s", d)
	}
	// One PATCH of the cluster: the priorities and nothing else.
	if n := w.Atlas.Requests()["PATCH /groups/{groupId}/clusters/{clusterName}"]; n != 1 {
		t.Errorf("%d cluster updates, want 1", n)
	}
	body := w.Atlas.Bodies("PATCH /groups/{groupId}/clusters/{clusterName}")
	if len(body) == 1 && (strings.Contains(body[0], "backupEnabled") || strings.Contains(body[0], "tags")) {
		t.Errorf("the failover sent more than the priorities: %s", body[0])
	}

	// A second failover to the same region has nothing to do.
	out, _, err = w.cli(t, "failover", "--to", "eu-west", "--yes", "-o", "json")
	if err != nil {
		t.Fatalf("repeated failover: %v\n%s", err, out)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if slices.ContainsFunc(p.Changes, func(c plan.Change) bool { return c.Action != plan.NoOp }) {
		t.Errorf("repeated failover plans changes: %+v", p.Changes)
	}

	out, errOut, err = w.cli(t, "failover", "--back", "--yes")
	if err != nil {
		t.Fatalf("failover --back: %v\n%s%s", err, out, errOut)
	}
	if d := cmp.Diff(spec, w.layout(t)); d != "" {
		t.Fatalf("after --back (-want +got):\n%s", d)
	}

	if _, _, err := w.cli(t, "failover", "--to", "mars", "--yes"); err == nil || !strings.Contains(err.Error(), `"mars" is not a region`) {
		t.Errorf("unknown region: %v", err)
	}
}

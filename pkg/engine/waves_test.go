package engine

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// TestWavesOrderOnlyTheWorkload: each wave's Deployment changes wait for
// those of the nearest earlier wave that has any; a wave without changes is
// passed over, and the other changes of a region are not held back.
func TestWavesOrderOnlyTheWorkload(t *testing.T) {
	at := func(region, kind string) plan.Address {
		return plan.Address{Provider: "kubernetes", Scope: "region/" + region, Region: region, Kind: kind, Name: "neko-defense/neko-api"}
	}
	p := &plan.Plan{Stack: "s", Changes: []plan.Change{
		{Address: at("eu-west", "Deployment"), Action: plan.Update},
		{Address: at("us-east", "Deployment"), Action: plan.Update},
		{Address: at("asia-pacific", "Deployment"), Action: plan.NoOp},
		{Address: at("us-east", "ConfigMap"), Action: plan.Update},
		{Address: plan.Address{Provider: "cloudflare", Scope: "zone/z", Kind: "pool", Name: "us-east"}, Action: plan.Update},
	}}
	r := &Rollout{RollBack: true, Waves: []Wave{{Regions: []string{"eu-west"}, Bake: 5 * time.Minute},
		{Regions: []string{"asia-pacific"}}, {Regions: []string{"us-east"}}}}
	p.Rollout = r.describe(p)
	if got := p.Rollout.WaveOf(at("us-east", "Deployment")); got != 3 {
		t.Errorf("us-east is in wave %d", got)
	}
	if p.Rollout.Waves[0].Bake != "5m0s" || len(p.Rollout.Waves[1].Changes) != 0 {
		t.Errorf("waves = %+v", p.Rollout.Waves)
	}
	g, err := Graph(p)
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string][]string{}
	for _, n := range g.Nodes() {
		for _, d := range g.DependsOn(n) {
			deps[n.Address.String()] = append(deps[n.Address.String()], d.Address.String())
		}
	}
	want := map[string][]string{at("us-east", "Deployment").String(): {at("eu-west", "Deployment").String()}}
	if diff := cmp.Diff(want, deps); diff != "" {
		t.Errorf("edges (-want +got):\n%s", diff)
	}
}

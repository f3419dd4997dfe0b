package printer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

func rolloutPlan() *plan.Plan {
	dep := func(r string) plan.Address {
		return plan.Address{Provider: "kubernetes", Scope: "region/" + r, Region: r, Kind: "Deployment", Name: "neko-defense/neko-api"}
	}
	p := &plan.Plan{Stack: "neko"}
	for _, r := range []string{"eu-west", "us-east"} {
		p.Changes = append(p.Changes, plan.Change{Address: dep(r), Action: plan.Update,
			Fields: []plan.Field{{Path: "spec.template.spec.containers[0].image", Before: "api:1", After: "api:2"}}})
	}
	p.Rollout = &plan.Rollout{OnFailure: "rollback", Waves: []plan.Wave{
		{Number: 1, Regions: []string{"eu-west"}, Bake: "10m0s", Changes: []plan.Address{dep("eu-west")}},
		{Number: 2, Regions: []string{"asia-pacific"}},
		{Number: 3, Regions: []string{"us-east"}, Changes: []plan.Address{dep("us-east")}},
	}}
	return p
}

// TestRolloutWavesInEveryRendering: text, Markdown and JSON show the same
// waves; a plan that changes no Deployment shows none.
func TestRolloutWavesInEveryRendering(t *testing.T) {
	want := []string{
		"Rollout of the workload in 3 wave(s)",
		"the failed regions are rolled back to their previous revision",
		"wave 1: eu-west (bake 10m0s)",
		"wave 2: asia-pacific (no workload change)",
		"wave 3: us-east",
	}
	var text, md bytes.Buffer
	if err := PlanText(&text, rolloutPlan(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := PlanMarkdown(&md, rolloutPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text lacks %q:\n%s", w, text.String())
		}
		if !strings.Contains(md.String(), w) {
			t.Errorf("markdown lacks %q:\n%s", w, md.String())
		}
	}
	var js bytes.Buffer
	if err := PlanJSON(&js, rolloutPlan()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Rollout *plan.Rollout `json:"rollout"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Rollout == nil || len(doc.Rollout.Waves) != 3 || doc.Rollout.OnFailure != "rollback" || doc.Rollout.Waves[0].Changes[0].Region != "eu-west" {
		t.Errorf("JSON rollout = %+v", doc.Rollout)
	}

	quiet := rolloutPlan()
	for i := range quiet.Rollout.Waves {
		quiet.Rollout.Waves[i].Changes = nil
	}
	text.Reset()
	if err := PlanText(&text, quiet, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String(), "Rollout") {
		t.Errorf("a plan without workload changes shows waves:\n%s", text.String())
	}
}

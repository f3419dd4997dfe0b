package printer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// partialPlan is samplePlan narrowed to one region, its Secret pulling in
// the Atlas user that publishes the connection string.
func partialPlan() *plan.Plan {
	p := samplePlan()
	var kept []plan.Change
	for _, c := range p.Changes {
		switch {
		case c.Address.Kind == "database_user":
			secret := plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Secret", Name: "neko-defense/mongodb"}
			c.PulledInBy = &secret
		case c.Address.Region != "us-east":
			continue
		}
		kept = append(kept, c)
	}
	p.Changes = kept
	p.Selection = &plan.Selection{Regions: []string{"us-east"}, Excludes: []string{"kubernetes.*.Namespace"}}
	return p
}

func TestPartialPlanSaysSo(t *testing.T) {
	const line = "Plan: 2 to add, 0 to change, 0 to destroy (partial: --region us-east --exclude kubernetes.*.Namespace; 1 pulled in as dependencies)."
	const why = `(pulled in: kubernetes[region/us-east].Secret["neko-defense/mongodb"] needs it)`
	var text, md bytes.Buffer
	if err := PlanText(&text, partialPlan(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := PlanMarkdown(&md, partialPlan(), MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		for _, want := range []string{line, `database_user "neko-api"  ` + why} {
			if !strings.Contains(out, want) {
				t.Errorf("%s rendering lacks %q:\n%s", name, want, out)
			}
		}
	}

	var js bytes.Buffer
	if err := PlanJSON(&js, partialPlan()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary struct {
			Partial  bool `json:"partial"`
			PulledIn int  `json:"pulled_in"`
		} `json:"summary"`
		Selection *plan.Selection `json:"selection"`
		Changes   []struct {
			Address    string        `json:"address"`
			PulledInBy *plan.Address `json:"pulled_in_by"`
		} `json:"changes"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if !doc.Summary.Partial || doc.Summary.PulledIn != 1 || doc.Selection == nil || doc.Selection.Regions[0] != "us-east" {
		t.Errorf("the JSON does not say the plan is partial and what selected it:\n%s", js.String())
	}
	for _, c := range doc.Changes {
		if strings.Contains(c.Address, "database_user") && (c.PulledInBy == nil || c.PulledInBy.Kind != "Secret") {
			t.Errorf("the pulled-in change does not name what needs it: %+v", c)
		}
	}
}

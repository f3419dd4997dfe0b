package printer

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/internal/golden"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

const secret = "s3cr3t-pa55w0rd"

func samplePlan() *plan.Plan {
	zone := plan.Address{Provider: "cloudflare", Scope: "zone/nekodefense.example", Kind: "zone_setting", Name: "ssl"}
	p := &plan.Plan{Stack: "neko", Changes: []plan.Change{
		{Address: zone, Action: plan.Update, ID: "ssl", Before: plan.Document{"value": "full"}, After: plan.Document{"value": "strict"},
			Fields: []plan.Field{{Path: "value", Before: "full", After: "strict"}}},
		{Address: plan.Address{Provider: "cloudflare", Scope: "zone/nekodefense.example", Kind: "dns_record", Name: "old.nekodefense.example"},
			Action: plan.Delete, ID: "r1", Before: plan.Document{"type": "A"}, Reason: "no longer in the spec"},
		{Address: plan.Address{Provider: "atlas", Scope: "project/neko", Kind: "database_user", Name: "neko-api"}, Action: plan.Create,
			After: plan.Document{"username": "neko-api", "password": plan.NewSensitive(secret), "roles": []any{map[string]any{"roleName": "readWrite", "databaseName": "neko"}}}},
		{Address: plan.Address{Provider: "atlas", Scope: "project/neko", Kind: "cluster", Name: "neko"}, Action: plan.Replace,
			Reason: "name cannot change in place", Fields: []plan.Field{{Path: "name", Before: "old", After: "neko"}}},
		{Address: plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Secret", Name: "neko-defense/mongodb"},
			Action: plan.Create, After: plan.Document{"data": map[string]any{"uri": plan.Unknown{From: "atlas/mongodb_uri"}}}},
		{Address: plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Namespace", Name: "neko-defense"},
			Action: plan.NoOp, ID: "neko-defense"},
	}}
	p.Sort()
	return p
}

func TestPlanTextGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := PlanText(&buf, samplePlan(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/plan.txt", buf.Bytes())
	if !strings.Contains(buf.String(), "Plan: 3 to add, 1 to change, 2 to destroy.") {
		t.Errorf("summary line missing:\n%s", buf.String())
	}
}

func TestPlanJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := PlanJSON(&buf, samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/plan.json", buf.Bytes())
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["format_version"] != plan.FormatVersion {
		t.Errorf("format_version = %v", doc["format_version"])
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	var text, js bytes.Buffer
	p := samplePlan()
	_ = PlanText(&text, p, TextOptions{ShowUnchanged: true})
	_ = PlanJSON(&js, p)
	lines := &bytes.Buffer{}
	sink := EventLines(lines, false)
	sink(eventFor(p.Changes[0]))
	for name, out := range map[string]string{"text": text.String(), "json": js.String(), "events": lines.String()} {
		if strings.Contains(out, secret) {
			t.Errorf("%s rendering leaks the secret", name)
		}
	}
	if !strings.Contains(text.String(), plan.Mask) {
		t.Error("text rendering does not show the mask")
	}
}

package printer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

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

func TestPlanMarkdownGolden(t *testing.T) {
	p := samplePlan()
	p.Diagnostics = []plan.Diagnostic{{Severity: plan.SeverityWarning, Message: "spec.cloudflare.loadBalancer: load balancing is a paid add-on"}}
	var buf bytes.Buffer
	if err := PlanMarkdown(&buf, p, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/plan.md", buf.Bytes())
	out := buf.String()
	for _, want := range []string{"**Plan: 3 to add, 1 to change, 2 to destroy.**", "> [!WARNING]",
		"<details><summary><b>kubernetes (us-east)</b>: 1 to add, 0 to change, 0 to destroy</summary>", `password = (sensitive)`} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing:\n%s", want, out)
		}
	}
	if strings.Contains(out, secret) || strings.Contains(out, "This plan was cut") {
		t.Errorf("secret leaked or cut without need:\n%s", out)
	}
}

// bigPlan has regions whose field diffs together pass GitHub's limit.
func bigPlan(regions, perRegion int) *plan.Plan {
	p := &plan.Plan{Stack: "neko"}
	for r := range regions {
		region := fmt.Sprintf("region-%02d", r)
		for i := range perRegion {
			doc := plan.Document{"data": map[string]any{"key": strings.Repeat("x", 400), "pw": plan.NewSensitive(secret)}}
			p.Changes = append(p.Changes, plan.Change{Action: plan.Create, After: doc,
				Address: plan.Address{Provider: "kubernetes", Scope: "region/" + region, Region: region, Kind: "ConfigMap", Name: fmt.Sprintf("neko/cm-%03d", i)}})
		}
	}
	return p
}

func TestPlanMarkdownIsCutBelowTheCommentLimit(t *testing.T) {
	tests := []struct {
		name             string
		p                *plan.Plan
		limit            int
		wantFieldsCut    string
		wantSectionsLeft string
	}{
		{name: "field diffs go first", p: bigPlan(3, 60), wantFieldsCut: "Field diffs left out: kubernetes (region-02)"},
		{name: "then whole sections", p: bigPlan(40, 60), wantSectionsLeft: "Sections left out: kubernetes (region-"},
		{name: "a small limit", p: bigPlan(2, 5), limit: 2000, wantFieldsCut: "Field diffs left out: kubernetes (region-00), kubernetes (region-01)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PlanMarkdown(&buf, tt.p, MarkdownOptions{Limit: tt.limit}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			limit := tt.limit
			if limit == 0 {
				limit = GitHubCommentLimit
			}
			if n := utf8.RuneCountInString(out); n > limit {
				t.Errorf("%d characters, over the limit of %d", n, limit)
			}
			for _, want := range []string{SummaryLine(tt.p), "This plan was cut to fit GitHub's 65,536-character comment limit.", tt.wantFieldsCut, tt.wantSectionsLeft} {
				if !strings.Contains(out, want) {
					t.Errorf("%q missing from the end:\n%s", want, out[max(0, len(out)-800):])
				}
			}
			if strings.Contains(out, secret) {
				t.Error("secret leaked")
			}
		})
	}
}

// TestPlanJSONIsTheEncodersDocument: the plan written one change at a
// time is byte for byte what encoding the whole document at once gives.
func TestPlanJSONIsTheEncodersDocument(t *testing.T) {
	// Thirty regions' worth of changes: more than one batch encoded at once.
	large := &plan.Plan{Stack: "s"}
	for r := range 30 {
		for _, c := range samplePlan().Changes {
			c.Address.Region = fmt.Sprintf("r%02d", r)
			large.Changes = append(large.Changes, c)
		}
	}
	for name, p := range map[string]*plan.Plan{"sample": samplePlan(), "partial": partialPlan(), "rollout": rolloutPlan(), "empty": {Stack: "s"}, "large": large} {
		var streamed bytes.Buffer
		if err := PlanJSON(&streamed, p); err != nil {
			t.Fatal(err)
		}
		var whole bytes.Buffer
		enc := json.NewEncoder(&whole)
		enc.SetIndent("", "  ")
		if err := enc.Encode(jsonDocument(p)); err != nil {
			t.Fatal(err)
		}
		if streamed.String() != whole.String() {
			t.Errorf("%s: streamed plan differs from the encoder's:\n%s\nwant:\n%s", name, streamed.String(), whole.String())
		}
	}
}

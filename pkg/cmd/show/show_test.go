package show

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/internal/golden"
	"github.com/neko-defense/nekoctl/pkg/cmd/factory"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
)

const secret = "s3cr3t-password-value"

// savedPlan writes a plan file as `plan -out` does: a zone setting to
// update, a user with a password to create, a record to delete.
func savedPlan(t *testing.T, destroy bool) string {
	t.Helper()
	zone := "zone/nekodefense.example"
	p := &plan.Plan{Stack: "neko-defense", Changes: []plan.Change{
		{Address: plan.Address{Provider: "cloudflare", Scope: zone, Kind: "zone_setting", Name: "ssl"}, Action: plan.Update, ID: "ssl",
			Before: plan.Document{"value": "full"}, After: plan.Document{"value": "strict"},
			Fields: []plan.Field{{Path: "value", Before: "full", After: "strict"}}},
		{Address: plan.Address{Provider: "cloudflare", Scope: zone, Kind: "dns_record", Name: "old.nekodefense.example"},
			Action: plan.Delete, ID: "r1", Before: plan.Document{"type": "A"}, Reason: "no longer in the spec"},
		{Address: plan.Address{Provider: "atlas", Scope: "project/neko-defense", Kind: "database_user", Name: "neko-api"}, Action: plan.Create,
			After: plan.Document{"username": "neko-api", "password": plan.NewSensitive(secret)}},
		{Address: plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "Deployment", Name: "neko-defense/neko-api"},
			Action: plan.Update, ID: "neko-defense/neko-api", Fields: []plan.Field{{Path: "spec.replicas", Before: 3, After: 4}}},
	}}
	if destroy {
		for i := range p.Changes {
			p.Changes[i].Action, p.Changes[i].Fields, p.Changes[i].After = plan.Delete, nil, nil
		}
	}
	p.Sort()
	path := filepath.Join(t.TempDir(), "saved.plan")
	f := &planfile.File{FormatVersion: planfile.FormatVersion, NekoctlVersion: "1.2.3",
		CreatedAt: time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC),
		Spec:      planfile.Spec{Path: "nekoctl.yaml", Digest: "sha256:0123abcd"},
		Options:   planfile.Options{Destroy: destroy}, Plan: p}
	if err := planfile.WriteFile(path, f); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestShowGolden(t *testing.T) {
	tests := []struct {
		name, output, golden string
		destroy              bool
		want                 string
	}{
		{"text", "text", "testdata/show.txt", false, `Saved plan of stack "neko-defense": nekoctl 1.2.3, spec nekoctl.yaml`},
		{"markdown", "markdown", "testdata/show.md", false, "### nekoctl plan: stack `neko-defense`"},
		{"destroy markdown", "markdown", "testdata/show-destroy.md", true, "### nekoctl destroy plan: stack `neko-defense`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := factory.New()
			ios, _, out, _ := iostreams.Test()
			f.IOStreams = ios
			cmd := NewCmdShow(f, nil)
			cmd.SetArgs([]string{savedPlan(t, tt.destroy), "-o", tt.output})
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, tt.golden, out.Bytes())
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("%q missing:\n%s", tt.want, out)
			}
			if strings.Contains(out.String(), secret) {
				t.Errorf("the saved plan's rendering leaks the password:\n%s", out)
			}
		})
	}
}

package kubernetes

import (
	"context"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestEngineAcrossRegions runs the real engine over the three regions with
// one of them unreachable: that region fails its part of the plan with a
// clear message, the other two plan and apply, and their next plan is empty.
func TestEngineAcrossRegions(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	st := isolatedStack("engine")
	dropNamespace(t, "us-east", "engine")
	dropNamespace(t, "asia-pacific", "engine")
	cfg := Config{PollInterval: 100e6, RolloutTimeout: 30e9, AddressTimeout: 10e9}
	providers := func() []provider.Provider {
		return []provider.Provider{
			&seed{},
			New(st, "us-east", env.RESTConfig("us-east"), cfg),
			New(st, "eu-west", env.UnreachableConfig(), cfg),
			New(st, "asia-pacific", env.RESTConfig("asia-pacific"), cfg),
		}
	}
	e := &engine.Engine{Providers: providers(), Parallelism: 4}
	pl := e.Plan(ctx, st.Metadata.Name, provider.Options{})
	// The regions that answer add their exposure checks as warnings and info.
	var errs []plan.Diagnostic
	for _, d := range pl.Plan.Diagnostics {
		if d.Severity == plan.SeverityError {
			errs = append(errs, d)
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "region eu-west (context eu-west): API server unreachable") {
		t.Fatalf("diagnostics: %+v", pl.Plan.Diagnostics)
	}
	byRegion := map[string]int{}
	for _, c := range pl.Plan.Changes {
		byRegion[c.Address.Region]++
	}
	if byRegion["us-east"] == 0 || byRegion["asia-pacific"] == 0 || byRegion["eu-west"] != 0 {
		t.Fatalf("changes per region: %v", byRegion)
	}
	if _, err := e.Apply(ctx, pl); err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, r := range []string{"us-east", "asia-pacific"} {
		if got, _ := pl.Outputs.Get("kubernetes/" + r + "/ingress_address"); got != gatewayAddress[r] {
			t.Errorf("%s address = %v", r, got)
		}
	}

	again := (&engine.Engine{Providers: providers()}).Plan(ctx, st.Metadata.Name, provider.Options{})
	if again.Plan.HasChanges() {
		t.Errorf("plan after apply has changes: %v", actions(again.Plan.Changes, true))
	}

	down := (&engine.Engine{Providers: providers(), Parallelism: 4}).Plan(ctx, st.Metadata.Name, provider.Options{Destroy: true})
	if _, err := (&engine.Engine{Providers: providers(), Parallelism: 4}).Apply(ctx, down); err != nil {
		t.Fatalf("down: %v", err)
	}
	assertNothingOwned(t, "us-east", "engine")
	assertNothingOwned(t, "asia-pacific", "engine")
}

// seed stands in for the Atlas and Cloudflare providers: it publishes their
// outputs while reading.
type seed struct{}

func (*seed) Name() string   { return "seed" }
func (*seed) Region() string { return "" }
func (*seed) Desired(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, nil
}
func (*seed) Read(_ context.Context, out provider.Outputs) ([]provider.Resource, error) {
	up := upstream()
	for _, k := range []string{provider.OutMongoURI, provider.OutDBPassword, provider.OutOriginCert, provider.OutOriginKey} {
		v, _ := up.Get(k)
		out.Set(k, v)
	}
	return nil, nil
}
func (*seed) Diff(context.Context, []provider.Resource, []provider.Resource, provider.Options) ([]plan.Change, error) {
	return nil, nil
}
func (*seed) Apply(context.Context, plan.Change, provider.Outputs) error { return nil }
func (*seed) Delete(context.Context, plan.Change) error                  { return nil }

package cloudflare

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// regionStub stands in for a region's Kubernetes provider: its Read
// publishes the region's ingress address and what its TLS Secret holds, as
// the real one does.
type regionStub struct {
	region string
	secret map[string]any
}

func (r *regionStub) Name() string   { return "kubernetes" }
func (r *regionStub) Region() string { return r.region }
func (r *regionStub) Desired(context.Context, provider.Outputs) ([]provider.Resource, error) {
	return nil, nil
}
func (r *regionStub) Read(_ context.Context, out provider.Outputs) ([]provider.Resource, error) {
	out.Set(fmt.Sprintf(provider.OutIngressAddress, r.region), ingress[r.region])
	for k, v := range r.secret {
		out.Set(k, v)
	}
	return nil, nil
}
func (r *regionStub) Diff(context.Context, []provider.Resource, []provider.Resource, provider.Options) ([]plan.Change, error) {
	return nil, nil
}
func (r *regionStub) Apply(context.Context, plan.Change, provider.Outputs) error { return nil }
func (r *regionStub) Delete(context.Context, plan.Change) error                  { return nil }

// TestExampleGlobalThroughTheEngine plans and applies examples/global.yaml
// with the engine's parallel, dependency-ordered apply, then checks that a
// plan of the populated zone makes PlanCalls calls and is empty, and that
// `down` removes everything the stack owns.
func TestExampleGlobalThroughTheEngine(t *testing.T) {
	loaded, err := spec.Load("../../../examples/global.yaml")
	if err != nil {
		t.Fatalf("loading the example: %v", err)
	}
	st := loaded.Stack
	emu := cfemu.New(t)
	emu.AddZone(st.Spec.Cloudflare.Zone, cfemu.Pro)
	if st.Spec.Cloudflare.AccountID != cfemu.DefaultAccount {
		t.Fatalf("example account %s is not the emulator's", st.Spec.Cloudflare.AccountID)
	}
	secret := map[string]any{}
	run := func(opts provider.Options, apply bool) (*engine.Planned, int) {
		t.Helper()
		c, err := NewClient(func(k string) string {
			return map[string]string{EnvAPIToken: emu.Token(), EnvBaseURL: emu.URL()}[k]
		}, nil, rate.NewLimiter(rate.Inf, 1))
		if err != nil {
			t.Fatal(err)
		}
		provs := []provider.Provider{New(st, c, Config{})}
		for _, r := range st.Spec.Regions {
			provs = append(provs, &regionStub{region: r.Name, secret: secret})
		}
		eng := &engine.Engine{Providers: provs, Parallelism: 4, Now: time.Now}
		emu.ResetCalls()
		pl := eng.Plan(context.Background(), st.Metadata.Name, opts)
		if pl.Plan.HasErrors() {
			t.Fatalf("plan: %+v", pl.Plan.Diagnostics)
		}
		calls := emu.TotalCalls()
		if apply {
			if _, err := eng.Apply(context.Background(), pl); err != nil {
				t.Fatalf("apply: %v", err)
			}
			for _, k := range []string{provider.OutOriginCert, provider.OutOriginKey} {
				if v, ok := pl.Outputs.Get(k); ok {
					secret[k] = v
				}
			}
		}
		return pl, calls
	}

	run(provider.Options{}, true)
	if n := len(emu.Policies(st.Spec.Cloudflare.AccountID)); n != 1 {
		t.Errorf("%d notification policies after up, want the pool-health one", n)
	}
	pl, calls := run(provider.Options{}, false)
	if pl.Plan.HasChanges() {
		t.Errorf("plan after up has changes: %v", pending(pl.Plan.Changes))
	}
	if calls != PlanCalls {
		t.Errorf("plan of examples/global.yaml against a populated zone made %d calls, want %d", calls, PlanCalls)
	}
	t.Logf("plan of examples/global.yaml against a populated zone: %d Cloudflare API calls", calls)

	run(provider.Options{Destroy: true}, true)
	if n := len(emu.Pools()) + len(emu.Monitors()) + len(emu.LoadBalancers(st.Spec.Cloudflare.Zone)) + len(emu.Records(st.Spec.Cloudflare.Zone)) + emu.CertificateCount() + len(emu.Policies(st.Spec.Cloudflare.AccountID)); n != 0 {
		t.Errorf("%d objects left after down", n)
	}
}

// TestRegionRemovedUpdatesTheBalancerBeforeDeletingItsPool drops a region:
// the engine must repoint the load balancer before the pool goes.
func TestRegionRemovedUpdatesTheBalancerBeforeDeletingItsPool(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.st.Spec.Regions = e.st.Spec.Regions[:2]
	p, changes, out := e.mustPlan(provider.Options{})
	eng := &engine.Engine{Providers: []provider.Provider{p}, Parallelism: 8}
	if _, err := eng.Apply(context.Background(), &engine.Planned{Plan: &plan.Plan{Changes: changes}, Outputs: out}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if n := len(e.emu.Pools()); n != 2 {
		t.Errorf("pools = %d, want 2", n)
	}
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("plan after removing a region: %v", got)
	}
}

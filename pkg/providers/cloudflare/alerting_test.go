package cloudflare

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// The pool-health policy is created pointing at the stack's pool ids,
// reads back as a no-op, follows a change of address as one update, and
// is pruned when the spec stops asking for it.
func TestAlertPolicyLifecycle(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	ps := e.emu.Policies(cfemu.DefaultAccount)
	if len(ps) != 1 {
		t.Fatalf("%d policies after up, want 1", len(ps))
	}
	var poolIDs []string
	for _, r := range e.st.Spec.Regions {
		for _, pl := range e.emu.Pools() {
			if pl.Name == PoolName(e.st.Metadata.Name, r.Name) {
				poolIDs = append(poolIDs, pl.ID)
			}
		}
	}
	pol := ps[0]
	if diff := cmp.Diff(poolIDs, pol.Filters["pool_id"]); diff != "" {
		t.Errorf("policy pools (-want +got):\n%s", diff)
	}
	if pol.AlertType != "load_balancing_health_alert" || pol.Description != Marker("neko") ||
		len(pol.Mechanisms["email"]) != 1 || pol.Mechanisms["email"][0].ID != "oncall@nekodefense.example" {
		t.Errorf("policy = %+v", pol)
	}
	if _, changes, _ := e.mustPlan(provider.Options{}); len(pending(changes)) != 0 {
		t.Fatalf("plan after up: %v", pending(changes))
	}

	e.st.Spec.Monitoring.Alerting.Emails = []string{"sre@nekodefense.example", "oncall@nekodefense.example"}
	e.emu.ResetCalls()
	changes := e.run(provider.Options{})
	want := []string{`update cloudflare[account/` + cfemu.DefaultAccount + `].notification_policy["pool-health"]`}
	if diff := cmp.Diff(want, pending(changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if n := e.emu.CallsMatching("PUT", "/alerting/v3/policies/"+pol.ID); n != 1 {
		t.Errorf("PUT of the policy = %d calls, want 1", n)
	}
	if got := e.emu.Policies(cfemu.DefaultAccount)[0].Mechanisms["email"]; len(got) != 2 || got[0].ID != "sre@nekodefense.example" {
		t.Errorf("emails after update: %+v", got)
	}

	e.st.Spec.Monitoring.Alerting.Emails = nil
	changes = e.run(provider.Options{})
	want = []string{`delete cloudflare[account/` + cfemu.DefaultAccount + `].notification_policy["pool-health"]`}
	if diff := cmp.Diff(want, pending(changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if n := len(e.emu.Policies(cfemu.DefaultAccount)); n != 0 {
		t.Errorf("%d policies after pruning", n)
	}
}

// A policy another team made (no marker) is neither read nor touched, and
// `down` deletes the stack's policy before the pools it names.
func TestAlertPolicyOwnershipAndDownOrder(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	if _, err := e.emu.Seed("POST", "/accounts/"+cfemu.DefaultAccount+"/alerting/v3/policies", map[string]any{
		"name": "theirs", "alert_type": "load_balancing_pool_enablement_alert", "enabled": true,
		"mechanisms": map[string]any{"email": []map[string]string{{"id": "them@example.com"}}},
	}); err != nil {
		t.Fatal(err)
	}
	e.run(provider.Options{})
	p, changes, out := e.mustPlan(provider.Options{Destroy: true})
	var policy *plan.Change
	for i := range changes {
		if changes[i].Address.Kind == KindAlertPolicy {
			policy = &changes[i]
		}
	}
	if policy == nil || policy.Action != plan.Delete {
		t.Fatalf("destroy plan has no policy delete: %v", pending(changes))
	}
	for _, r := range e.st.Spec.Regions {
		if !slices.Contains(policy.DependsOn, p.accountAddr(KindPool, r.Name)) {
			t.Errorf("the policy's delete is not ordered against pool %s: %v", r.Name, policy.DependsOn)
		}
	}
	eng := &engine.Engine{Providers: []provider.Provider{p}, Parallelism: 8}
	if _, err := eng.Apply(context.Background(), &engine.Planned{Plan: &plan.Plan{Changes: changes}, Outputs: out}); err != nil {
		t.Fatalf("down: %v", err)
	}
	left := e.emu.Policies(cfemu.DefaultAccount)
	if len(left) != 1 || left[0].Name != "theirs" {
		t.Errorf("policies after down: %+v", left)
	}
}

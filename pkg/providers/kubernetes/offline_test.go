package kubernetes

import (
	"context"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestOfflinePlan: without a cluster every object of every region is a
// create with the addresses the plan model expects, values from other
// providers are unknown, and reading fails with a clear message.
func TestOfflinePlan(t *testing.T) {
	ctx := context.Background()
	st := testStack()
	for _, r := range st.Spec.Regions {
		p := New(st, r.Name, nil, Config{})
		desired, err := p.Desired(ctx, provider.NewOutputs())
		if err != nil {
			t.Fatal(err)
		}
		changes, err := p.Diff(ctx, desired, nil, provider.Options{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]bool{}
		for _, c := range changes {
			if c.Action != plan.Create {
				t.Errorf("%s: %s, want create", c.Address, c.Action)
			}
			a := c.Address
			if a.Provider != "kubernetes" || a.Scope != "region/"+r.Name || a.Region != r.Name {
				t.Errorf("address %+v", a)
			}
			if a.Kind != "Namespace" && !strings.HasPrefix(a.Name, "neko-defense/") {
				t.Errorf("namespaced address without namespace: %+v", a)
			}
			kinds[a.Kind] = true
		}
		for _, k := range []string{"Namespace", "ServiceAccount", "ConfigMap", "Secret", "Deployment", "Service",
			"HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "StatefulSet", "HTTPRoute",
			"ReferenceGrant", "ServiceMonitor", "PrometheusRule"} {
			if !kinds[k] {
				t.Errorf("region %s: no %s planned", r.Name, k)
			}
		}
		var atlas plan.Change
		for _, c := range changes {
			if c.Address.Name == "neko-defense/"+atlasSecret {
				atlas = c
			}
		}
		data, _ := atlas.After["data"].(map[string]any)
		if u, ok := data["MONGODB_URI"].(plan.Unknown); !ok || u.From != provider.OutMongoURI {
			t.Errorf("MONGODB_URI = %#v, want unknown from %s", data["MONGODB_URI"], provider.OutMongoURI)
		}
		if _, err := p.Read(ctx, provider.NewOutputs()); err == nil || !strings.Contains(err.Error(), "no cluster configured") {
			t.Errorf("Read without a cluster: %v", err)
		}
	}
}

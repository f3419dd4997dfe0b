package kubernetes

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// TestRenderAcceptedByAPIServer: what `nekoctl render` prints for every
// region is accepted by a real API server (server-side dry-run apply in the
// rendered namespace), and its pod templates pass Pod Security restricted.
func TestRenderAcceptedByAPIServer(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	for _, exposure := range []string{"gateway", "ingress", "owned-gateway"} {
		st := isolatedStack("render-" + exposure)
		st.Spec.Workload.Exposure.Type = exposure
		if exposure == "owned-gateway" {
			st = ownedGatewayStack("render-" + exposure)
		}
		for _, region := range regions {
			t.Run(exposure+"/"+region, func(t *testing.T) {
				out, err := Render(st, region, upstream())
				if err != nil {
					t.Fatal(err)
				}
				objs, err := kubetest.DecodeManifests(out)
				if err != nil {
					t.Fatal(err)
				}
				p := newProvider(t, st, region, nil)
				if err := p.clients(); err != nil {
					t.Fatal(err)
				}
				applied := 0
				for _, o := range objs {
					gvk := o.GroupVersionKind()
					m, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						if gvk.Group != monitoringGroup {
							t.Errorf("%s not served", gvk)
						}
						continue // region without the Prometheus Operator
					}
					body, _ := o.MarshalJSON()
					opts := metav1.PatchOptions{FieldManager: FieldManager}
					if o.GetKind() != "Namespace" {
						opts.DryRun = []string{metav1.DryRunAll}
					}
					rc := p.dyn.Resource(m.Resource)
					if o.GetNamespace() != "" {
						_, err = rc.Namespace(o.GetNamespace()).Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts)
					} else {
						_, err = rc.Patch(ctx, o.GetName(), types.ApplyPatchType, body, opts)
					}
					if err != nil {
						t.Errorf("%s %s refused: %v", o.GetKind(), o.GetName(), err)
						continue
					}
					applied++
					if k := o.GetKind(); k == "Deployment" || k == "StatefulSet" {
						if err := p.checkPodSecurityOnApply(ctx, plan.Document(o.Object)); err != nil { // the namespace is new: as apply, wait for its default ServiceAccount
							t.Errorf("Pod Security: %v", err)
						}
					}
				}
				if applied < 15 {
					t.Errorf("only %d objects checked", applied)
				}
				dropNamespace(t, region, st.Spec.Workload.Namespace)
			})
		}
	}
}

// TestRenderKeepsSecretsOut: render output without upstream values leaves
// the Secrets empty, and the plan documents never carry a secret in clear.
func TestRenderKeepsSecretsOut(t *testing.T) {
	st := testStack()
	out, err := Render(st, "us-east", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "@@nekoctl") {
		t.Error("placeholder token left in the rendered YAML")
	}
	p := New(st, "us-east", nil, Config{})
	res, err := p.Desired(context.Background(), upstream())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		b, err := jsonMarshal(r.Doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{"s3cret", originKey, originCert} {
			if strings.Contains(b, secret) {
				t.Errorf("%s: plan document reveals a secret: %s", r.Address, b)
			}
		}
	}
}

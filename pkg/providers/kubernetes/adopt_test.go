package kubernetes

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestAdoptHandMadeObjects: objects made by hand with nekoctl's names and
// no markers (a namespace and a ConfigMap, as a guide reader would) are
// planned as adoptions with a conflict and the fields adopting changes;
// apply refuses them without --adopt; with --adopt they are taken over
// (marked owned, nekoctl's fields set, other fields left alone) and the
// next plan is empty.
func TestAdoptHandMadeObjects(t *testing.T) {
	needCluster(t)
	t.Parallel()
	ctx := context.Background()
	const region = "asia-pacific"
	cs := env.Clientset(region)
	dropNamespace(t, region, "adopt")
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "adopt",
		Labels: map[string]string{"team": "platform"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: AppName + "-config", Namespace: "adopt"},
		Data: map[string]string{"LOG_LEVEL": "debug", "HAND_MADE": "yes"}}
	if _, err := cs.CoreV1().ConfigMaps("adopt").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	st := isolatedStack("adopt")
	out := upstream()
	p := newProvider(t, st, region, nil)

	conflicted := planRegion(t, p, out, provider.Options{})
	adoptions := map[string]plan.Change{}
	for _, c := range conflicted {
		if c.Action == plan.Adopt {
			adoptions[c.Address.Kind] = c
		}
	}
	if len(adoptions) != 2 || adoptions["Namespace"].Conflict != provider.ConflictUnowned || adoptions["ConfigMap"].Conflict != provider.ConflictUnowned {
		t.Fatalf("adoptions planned: %v", actions(conflicted, true))
	}
	if c := adoptions["ConfigMap"]; c.Fingerprint == "" || !contains(fieldsOf([]plan.Change{c}), "data.LOG_LEVEL: debug → info") {
		t.Errorf("the adoption does not show what it changes: fingerprint %q, fields %v", c.Fingerprint, fieldsOf([]plan.Change{c}))
	}
	if err := p.Apply(ctx, adoptions["Namespace"], out); err == nil || !strings.Contains(err.Error(), "--adopt") {
		t.Errorf("applying a conflict: err = %v", err)
	}

	adopt := planRegion(t, p, out, provider.Options{Adopt: true})
	for _, c := range adopt {
		if c.Conflict != "" {
			t.Errorf("conflict with --adopt: %s %s", c.Address, c.Conflict)
		}
	}
	applyAll(t, p, adopt, out)
	got, err := cs.CoreV1().ConfigMaps("adopt").Get(ctx, AppName+"-config", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Labels[LabelPartOf] != ApplySetID(st) || got.Data["LOG_LEVEL"] != "info" || got.Data["HAND_MADE"] != "yes" {
		t.Errorf("adopted ConfigMap: labels %v data %v", got.Labels, got.Data)
	}
	ns, _ := cs.CoreV1().Namespaces().Get(ctx, "adopt", metav1.GetOptions{})
	if ns.Labels[LabelPartOf] != ApplySetID(st) || ns.Labels["team"] != "platform" {
		t.Errorf("adopted namespace labels: %v", ns.Labels)
	}
	if got := actions(planRegion(t, p, out, provider.Options{}), true); len(got) != 0 {
		t.Errorf("plan after adopting is not empty: %v", got)
	}
	applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out)
	assertNothingOwned(t, region, "adopt")
}

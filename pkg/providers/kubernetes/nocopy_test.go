package kubernetes

import (
	"context"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestPlanAndApplyLeaveWhatReadSawAlone: the live documents a Read
// returns share their values with the objects it read (no deep copy), so
// nothing after it may change either in place. A plan with updates (a new
// image, a new database address: the Deployment and a Secret change), its
// checks and its apply must leave both exactly as read.
func TestPlanAndApplyLeaveWhatReadSawAlone(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region, ns = "eu-west", "nocopy"
	appliedStack(t, region, ns)

	st := isolatedStack(ns)
	st.Spec.Workload.Image = "ghcr.io/neko-defense/nekoctl:v1.0.1"
	next := newProvider(t, st, region, nil)
	out := upstream()
	out.Set(provider.OutMongoURI, plan.NewSensitive("mongodb+srv://neko-api:s3cret@neko-global.fghij.mongodb.net/neko_defense"))
	ctx := context.Background()
	live, err := next.Read(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	read := map[objKey]any{}
	for k, u := range next.snapshot().objects {
		read[k] = copyValue(u.Object)
	}
	docs := make([]any, len(live))
	for i, r := range live {
		docs[i] = copyValue(r.Doc)
	}
	unchanged := func(when string) {
		t.Helper()
		for i, r := range live {
			if diff := cmp.Diff(docs[i], copyValue(r.Doc)); diff != "" {
				t.Errorf("%s: the live document of %s changed (-read +now):\n%s", when, r.Address, diff)
			}
		}
	}
	desired, err := next.Desired(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	changes, err := next.Diff(ctx, desired, live, provider.Options{})
	if err != nil {
		t.Fatal(err)
	}
	next.Check(ctx)
	got := map[plan.Action][]string{}
	for _, c := range changes {
		if c.Action != plan.NoOp {
			got[c.Action] = append(got[c.Action], c.Address.Kind+" "+c.Address.Name)
		}
	}
	if !contains(got[plan.Update], "Deployment "+ns+"/"+AppName) || !contains(got[plan.Update], "Secret "+ns+"/"+atlasSecret) {
		t.Fatalf("the plan does not update the Deployment and the Atlas Secret: %v", got)
	}
	for k, u := range next.snapshot().objects {
		if want, ok := read[k]; ok && !reflect.DeepEqual(want, copyValue(u.Object)) {
			t.Errorf("planning changed %v as read (-read +now):\n%s", k, cmp.Diff(want, copyValue(u.Object)))
		}
	}
	unchanged("after the plan")
	applyAll(t, next, changes, out)
	unchanged("after the apply")
}

package kubernetes

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// wavesEngine runs the real engine over the three regions with the spec's
// rollout waves, fresh providers each time (a new run).
func wavesEngine(st *spec.Stack, ev *events) *engine.Engine {
	cfg := Config{PollInterval: 100 * time.Millisecond, RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second,
		DiscoveryCacheDir: "-", Events: ev.sink}
	providers := []provider.Provider{&seed{}}
	for _, r := range regions {
		providers = append(providers, New(st, r, env.RESTConfig(r), cfg))
	}
	ro := &engine.Rollout{RollBack: st.Spec.Rollout.OnFailure == spec.OnFailureRollback}
	for _, w := range st.Spec.Rollout.Waves {
		ro.Waves = append(ro.Waves, engine.Wave{Regions: w.Regions})
	}
	return &engine.Engine{Providers: providers, Parallelism: 8, Rollout: ro, Events: ev.sink}
}

func liveImage(t *testing.T, region, ns string) string {
	t.Helper()
	d, err := env.Clientset(region).AppsV1().Deployments(ns).Get(context.Background(), AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("%s: %v", region, err)
	}
	return d.Spec.Template.Spec.Containers[0].Image
}

// TestWaveFailureRollsBackCanary: a new image reaches the canary first;
// its rollout fails, so the later waves never start and the canary goes
// back to the revision recorded before the change; the run fails saying so.
// `rollback` on demand then returns a region that took a new revision.
func TestWaveFailureRollsBackCanary(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const ns, v1, v2 = "waves", "ghcr.io/neko-defense/nekoctl:v1.0.0", "ghcr.io/neko-defense/nekoctl:v2.0.0"
	st := isolatedStack(ns)
	for _, r := range regions {
		dropNamespace(t, r, ns)
	}
	ctx := context.Background()
	ev := &events{}
	first := wavesEngine(st, ev)
	if _, err := first.Apply(ctx, first.Plan(ctx, st.Metadata.Name, provider.Options{})); err != nil {
		t.Fatalf("first up: %v", err)
	}

	st.Spec.Workload.Image = v2
	env.Controller().SetRollout("eu-west", "Deployment", ns, AppName, kubetest.Rollout{Image: v2,
		FailReason: "ProgressDeadlineExceeded", FailMessage: `ReplicaSet "neko-api-7c9d" has timed out progressing.`})
	e := wavesEngine(st, ev)
	pl := e.Plan(ctx, st.Metadata.Name, provider.Options{})
	var got [][]string
	for _, w := range pl.Plan.Rollout.Waves {
		var rs []string
		for _, a := range w.Changes {
			rs = append(rs, a.Region)
		}
		got = append(got, rs)
	}
	if want := "[[eu-west] [asia-pacific] [us-east]]"; fmtWaves(got) != want {
		t.Fatalf("waves = %v, want %s", got, want)
	}
	res, err := e.Apply(ctx, pl)
	if err == nil {
		t.Fatal("up succeeded although the canary's rollout failed")
	}
	for _, want := range []string{"region eu-west was rolled back", v1, "ProgressDeadlineExceeded"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if len(res.RolledBack) != 1 || res.RolledBack[0].Region != "eu-west" || res.RolledBack[0].Err != nil {
		t.Errorf("rolled back = %+v", res.RolledBack)
	}
	for _, o := range res.Outcomes {
		if o.Change.Address.Kind == "Deployment" && o.Change.Address.Region != "eu-west" && o.Status != event.Skipped {
			t.Errorf("%s: %s, want skipped after the canary failed", o.Change.Address, o.Status)
		}
	}
	for _, r := range regions {
		if img := liveImage(t, r, ns); img != v1 {
			t.Errorf("%s runs %s after the failed wave, want %s", r, img, v1)
		}
	}

	// The bad release is fixed in the cluster; a later up takes every region
	// to v2, recording v1 before each change.
	env.Controller().SetRollout("eu-west", "Deployment", ns, AppName, kubetest.Healthy)
	e = wavesEngine(st, ev)
	if _, err := e.Apply(ctx, e.Plan(ctx, st.Metadata.Name, provider.Options{})); err != nil {
		t.Fatalf("up v2: %v", err)
	}
	// On demand, only us-east goes back: the plan shows the image change,
	// and a second rollback has nothing to do.
	e = wavesEngine(st, ev)
	rb := e.PlanRollback(ctx, st.Metadata.Name, []string{"us-east"})
	if len(rb.Plan.Changes) != 1 || rb.Plan.Changes[0].Action != plan.Update || !hasField(rb.Plan.Changes[0], v2, v1) {
		t.Fatalf("rollback plan: %+v", rb.Plan)
	}
	if _, err := e.RollBack(ctx, rb); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	if img := liveImage(t, "us-east", ns); img != v1 {
		t.Errorf("us-east runs %s after the rollback", img)
	}
	if img := liveImage(t, "asia-pacific", ns); img != v2 {
		t.Errorf("asia-pacific runs %s, was not to be rolled back", img)
	}
	again := wavesEngine(st, ev).PlanRollback(ctx, st.Metadata.Name, []string{"us-east"})
	if again.Plan.HasChanges() {
		t.Errorf("second rollback plan has changes: %+v", again.Plan.Changes)
	}
}

func fmtWaves(w [][]string) string {
	var parts []string
	for _, rs := range w {
		parts = append(parts, "["+strings.Join(rs, " ")+"]")
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// hasField reports a field of c going from before to after.
func hasField(c plan.Change, before, after string) bool {
	for _, f := range c.Fields {
		if f.Before == before && f.After == after {
			return true
		}
	}
	return false
}

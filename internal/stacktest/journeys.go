package stacktest

import (
	"context"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/providers/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
)

// Runner runs one nekoctl command line against a World, the runner adding
// the spec's -f, and returns all it printed (with the error it ended with)
// and its exit code. The same journey runs in the test's process and
// through the built binary.
type Runner func(t *testing.T, args ...string) (out string, code int)

// mustRun runs a command line that must end with exit code want.
func (run Runner) mustRun(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, code := run(t, args...)
	if code != want {
		t.Fatalf("nekoctl %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, want, out)
	}
	return out
}

// AdoptionJourney builds the guide's stack by hand; `up` then stops at the
// plan, naming every conflict in every provider, and writes nothing; `up
// --adopt` takes everything over without making a second copy of
// anything; the next plan is empty (exit 0 with --detailed-exitcode).
func AdoptionJourney(t *testing.T, w *World, run Runner) {
	t.Helper()
	w.BuildGuideStackByHand(t)
	w.CF.ResetCalls()
	w.Atlas.ResetCounts()

	out := run.mustRun(t, 1, "up", "--yes")
	for _, c := range append(ByHandConflicts(), "--adopt", "nothing was applied") {
		if !strings.Contains(out, c) {
			t.Errorf("the refusal does not name %s:\n%s", c, out)
		}
	}
	if n := w.CF.Writes(); n != 0 || w.Atlas.Mutations() != 0 {
		t.Errorf("the refused up wrote: %d Cloudflare writes, %d Atlas mutations", n, w.Atlas.Mutations())
	}
	if d, err := w.Kube.Clientset("eu-west").AppsV1().Deployments("neko-defense").Get(context.Background(), kubernetes.AppName, metav1.GetOptions{}); err != nil ||
		d.Labels[kubernetes.LabelPartOf] != "" {
		t.Errorf("the refused up touched the Deployment: %v %v", err, d.Labels)
	}

	out = run.mustRun(t, 0, "up", "--yes", "--adopt")
	if !strings.Contains(out, "<= ") {
		t.Errorf("up --adopt did not show the adoptions:\n%s", out)
	}
	run.mustRun(t, 0, "plan", "--detailed-exitcode")
	w.CheckOneOfEach(t)
	w.checkAdopted(t)
}

// checkAdopted: everything made by hand now carries the stack's marker and
// what the spec says.
func (w *World) checkAdopted(t *testing.T) {
	t.Helper()
	marker := cloudflare.Marker("neko-defense")
	if mons, lbs := w.CF.Monitors(), w.CF.LoadBalancers(Zone); len(mons) != 1 || len(lbs) != 1 ||
		mons[0].Description != marker || lbs[0].Description != marker {
		t.Errorf("after adopting: %+v, %+v", mons, lbs)
	}
	for _, rec := range w.CF.Records(Zone) {
		if rec.Name == "www.api."+Zone && (rec.Type != "CNAME" || rec.Comment != marker) {
			t.Errorf("www.api after adopting: %+v", rec)
		}
	}
	gid, _ := w.Atlas.ProjectID("neko-defense")
	doc, _ := w.Atlas.ClusterDoc(gid, "neko-global")
	owned := false
	if doc.Tags != nil {
		for _, tg := range *doc.Tags {
			owned = owned || tg.Key == atlas.TagStack && tg.Value == "neko-defense"
		}
	}
	if !owned {
		t.Errorf("the adopted cluster carries no stack tag: %+v", doc.Tags)
	}
	for _, r := range Regions {
		d, err := w.Kube.Clientset(r).AppsV1().Deployments("neko-defense").Get(context.Background(), kubernetes.AppName, metav1.GetOptions{})
		if err != nil || d.Labels[kubernetes.LabelPartOf] == "" || !strings.HasPrefix(d.Spec.Template.Spec.Containers[0].Image, "neko-defense/nekoctl:1.0.0@") {
			t.Errorf("%s: Deployment after adopting: %v", r, err)
		}
	}
}

// PartialRunsJourney plans and applies parts of the guide's stack: a
// --region run touches only that region's cluster and what its objects
// need (the Atlas user whose connection string its Secret holds, the
// origin certificate), a --target run only the target and its
// dependencies; what matches nothing is refused; a full `up` then
// converges to an empty plan.
func PartialRunsJourney(t *testing.T, w *World, run Runner) {
	t.Helper()
	out := run.mustRun(t, 0, "plan", "--region", "us-east")
	for _, want := range []string{
		"kubernetes (us-east)",
		`database_user "neko-api"  (pulled in: kubernetes[region/us-east].Secret["neko-defense/neko-api-atlas"] needs it)`,
		`origin_certificate "api.nekodefense.example"  (pulled in: kubernetes[region/us-east].Secret["neko-defense/neko-api-origin-tls"] needs it)`,
		"(partial: --region us-east; ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the --region plan lacks %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"eu-west", "asia-pacific", "pool", "load_balancer", "dns_record"} {
		if strings.Contains(out, never) {
			t.Errorf("the --region us-east plan mentions %q:\n%s", never, out)
		}
	}

	run.mustRun(t, 0, "up", "--yes", "--region", "us-east")
	w.WantNamespace(t, "us-east", true)
	w.WantNamespace(t, "eu-west", false)
	w.WantNamespace(t, "asia-pacific", false)
	if n, lbs := len(w.CF.Pools()), len(w.CF.LoadBalancers(Zone)); n+lbs != 0 {
		t.Errorf("up --region made %d pools and %d load balancers", n, lbs)
	}
	if n := len(w.CF.Records(Zone)); n != 0 {
		t.Errorf("up --region made %d DNS records", n)
	}
	if n := w.CF.CertificateCount(); n != 1 {
		t.Errorf("origin certificates = %d, want the one the region's Secret needs", n)
	}
	gid, ok := w.Atlas.ProjectID("neko-defense")
	if !ok || len(w.Atlas.ClusterNames(gid)) != 1 {
		t.Errorf("the Atlas cluster the region's Secret needs was not made")
	}

	// Only the Deployment and what it needs; not the Service or route that
	// need nothing from it, not another region. (The first partial run took
	// the primary region: a region's Secret takes the stack's shared values
	// from a region that has them, which on a new stack is the primary.)
	out = run.mustRun(t, 0, "up", "--yes", "--target", "kubernetes.eu-west.Deployment")
	if !strings.Contains(out, "the regions were not verified") {
		t.Errorf("a --target up does not say it verified nothing:\n%s", out)
	}
	ctx := context.Background()
	apps := w.Kube.Clientset("eu-west").AppsV1()
	if _, err := apps.Deployments("neko-defense").Get(ctx, "neko-api", metav1.GetOptions{}); err != nil {
		t.Errorf("the targeted Deployment: %v", err)
	}
	if _, err := apps.StatefulSets("neko-defense").Get(ctx, "neko-redis", metav1.GetOptions{}); err != nil {
		t.Errorf("the Redis StatefulSet the Deployment needs: %v", err)
	}
	_, err := w.Kube.Clientset("eu-west").CoreV1().Services("neko-defense").Get(ctx, "neko-api", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the API Service is not needed by the Deployment, yet: %v", err)
	}
	w.WantNamespace(t, "asia-pacific", false)
	if n := len(w.CF.Pools()); n != 0 {
		t.Errorf("up --target made %d pools", n)
	}

	// What matches nothing is refused before anything is applied.
	w.CF.ResetCalls()
	for _, c := range []struct{ flag, value, refusal string }{
		{"--target", "kubernetes.us-east.Ingress", "--target kubernetes.us-east.Ingress matches no resource"},
		{"--region", "eu-wset", "--region eu-wset"},
	} {
		if out := run.mustRun(t, 1, "up", "--yes", c.flag, c.value); !strings.Contains(out, c.refusal) {
			t.Errorf("up %s %s is not refused naming it:\n%s", c.flag, c.value, out)
		}
	}
	if n := w.CF.Writes(); n != 0 {
		t.Errorf("the refused runs made %d Cloudflare writes", n)
	}

	run.mustRun(t, 0, "up", "--yes")
	run.mustRun(t, 0, "plan", "--detailed-exitcode")
	w.CheckOneOfEach(t)
}

// WantNamespace checks whether the workload's namespace exists in region.
func (w *World) WantNamespace(t *testing.T, region string, want bool) {
	t.Helper()
	_, err := w.Kube.Clientset(region).CoreV1().Namespaces().Get(context.Background(), "neko-defense", metav1.GetOptions{})
	switch {
	case want && err != nil:
		t.Errorf("%s: the namespace: %v", region, err)
	case !want && !apierrors.IsNotFound(err):
		t.Errorf("%s: the namespace should not exist (%v)", region, err)
	}
}

// CheckOneOfEach counts what the whole stack owns in every system: one of
// each, none twice.
func (w *World) CheckOneOfEach(t *testing.T) {
	t.Helper()
	if n := len(w.CF.Pools()); n != len(Regions) {
		t.Errorf("pools = %d, want %d", n, len(Regions))
	}
	if n := len(w.CF.Monitors()); n != 1 {
		t.Errorf("monitors = %d, want 1", n)
	}
	if n := len(w.CF.LoadBalancers(Zone)); n != 1 {
		t.Errorf("load balancers = %d, want 1", n)
	}
	if n := w.CF.CertificateCount(); n != 1 {
		t.Errorf("origin certificates = %d, want 1", n)
	}
	records := map[string]int{}
	for _, r := range w.CF.Records(Zone) {
		records[r.Type+" "+r.Name]++
	}
	if len(records) == 0 {
		t.Error("no DNS records")
	}
	for k, n := range records {
		if n != 1 {
			t.Errorf("DNS record %s exists %d times", k, n)
		}
	}
	gid, ok := w.Atlas.ProjectID("neko-defense")
	if !ok {
		t.Fatal("no Atlas project")
	}
	if names := w.Atlas.ClusterNames(gid); len(names) != 1 {
		t.Errorf("clusters = %v, want one", names)
	}
	for _, r := range Regions {
		ds, err := w.Kube.Clientset(r).AppsV1().Deployments("neko-defense").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Items) == 0 {
			t.Errorf("%s: no Deployments", r)
		}
	}
}

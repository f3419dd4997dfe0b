package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	corev1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/cmd/plan"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
)

// TestPartialRuns plans and applies parts of the guide's stack against the
// emulators and three kube-apiservers: a --region run touches only that
// region's cluster and what its objects need (the Atlas user whose
// connection string its Secret holds, the origin certificate), a --target
// run only the target and its dependencies; a full `up` then converges.
func TestPartialRuns(t *testing.T) {
	w := newWorld(t)

	out, err := w.plan(t, "--region", "us-east")
	if err != nil {
		t.Fatalf("plan --region us-east: %v\n%s", err, out)
	}
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

	out, err = w.run(t, "up", func(o *ApplyOptions) { o.Select.Regions = []string{"us-east"} })
	if err != nil {
		t.Fatalf("up --region us-east: %v\n%s", err, out)
	}
	w.wantNamespace(t, "us-east", true)
	w.wantNamespace(t, "eu-west", false)
	w.wantNamespace(t, "asia-pacific", false)
	if n, lbs := len(w.cf.Pools()), len(w.cf.LoadBalancers("nekodefense.example")); n+lbs != 0 {
		t.Errorf("up --region made %d pools and %d load balancers", n, lbs)
	}
	if n := len(w.cf.Records("nekodefense.example")); n != 0 {
		t.Errorf("up --region made %d DNS records", n)
	}
	if n := w.cf.CertificateCount(); n != 1 {
		t.Errorf("origin certificates = %d, want the one the region's Secret needs", n)
	}
	gid, ok := w.atlas.ProjectID("neko-defense")
	if !ok || len(w.atlas.ClusterNames(gid)) != 1 {
		t.Errorf("the Atlas cluster the region's Secret needs was not made")
	}

	// Only the Deployment and what it needs; not the Service or route that
	// need nothing from it, not another region. (The first partial run took
	// the primary region: a region's Secret takes the stack's shared values
	// from a region that has them, which on a new stack is the primary.)
	out, err = w.run(t, "up", func(o *ApplyOptions) { o.Select.Targets = []string{"kubernetes.eu-west.Deployment"} })
	if err != nil {
		t.Fatalf("up --target kubernetes.eu-west.Deployment: %v\n%s", err, out)
	}
	if !strings.Contains(out, "the regions were not verified") {
		t.Errorf("a --target up does not say it verified nothing:\n%s", out)
	}
	apps := w.kube.Clientset("eu-west").AppsV1()
	if _, err := apps.Deployments("neko-defense").Get(context.Background(), "neko-api", corev1.GetOptions{}); err != nil {
		t.Errorf("the targeted Deployment: %v", err)
	}
	if _, err := apps.StatefulSets("neko-defense").Get(context.Background(), "neko-redis", corev1.GetOptions{}); err != nil {
		t.Errorf("the Redis StatefulSet the Deployment needs: %v", err)
	}
	_, err = w.kube.Clientset("eu-west").CoreV1().Services("neko-defense").Get(context.Background(), "neko-api", corev1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the API Service is not needed by the Deployment, yet: %v", err)
	}
	w.wantNamespace(t, "asia-pacific", false)
	if n := len(w.cf.Pools()); n != 0 {
		t.Errorf("up --target made %d pools", n)
	}

	// What matches nothing is refused before anything is applied.
	_, err = w.run(t, "up", func(o *ApplyOptions) { o.Select.Targets = []string{"kubernetes.us-east.Ingress"} })
	if err == nil || !strings.Contains(err.Error(), "--target kubernetes.us-east.Ingress matches no resource") {
		t.Errorf("a target matching nothing: %v", err)
	}
	_, err = w.run(t, "up", func(o *ApplyOptions) { o.Select.Regions = []string{"eu-wset"} })
	var fe *cmdutil.FlagError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "--region eu-wset") {
		t.Errorf("an unknown region: %v", err)
	}

	if out, err := w.run(t, "up", nil); err != nil {
		t.Fatalf("full up after partial ones: %v\n%s", err, out)
	}
	if out, err := w.run(t, "plan", nil); err != nil {
		t.Fatalf("plan after the full up is not empty (%v):\n%s", err, out)
	}
	if n := w.cf.CertificateCount(); n != 1 {
		t.Errorf("origin certificates = %d after the full up, want 1", n)
	}
}

// plan runs `nekoctl plan` with extra arguments.
func (w *world) plan(t *testing.T, args ...string) (string, error) {
	t.Helper()
	f, out, errOut := w.factory()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := plan.NewCmdPlan(f, nil)
	c.SilenceErrors, c.SilenceUsage = true, true
	c.SetArgs(append([]string{"-f", w.spec}, args...))
	err := c.ExecuteContext(ctx)
	return out.String() + errOut.String(), err
}

func (w *world) wantNamespace(t *testing.T, region string, want bool) {
	t.Helper()
	_, err := w.kube.Clientset(region).CoreV1().Namespaces().Get(context.Background(), "neko-defense", corev1.GetOptions{})
	switch {
	case want && err != nil:
		t.Errorf("%s: the namespace: %v", region, err)
	case !want && !apierrors.IsNotFound(err):
		t.Errorf("%s: the namespace should not exist (%v)", region, err)
	}
}

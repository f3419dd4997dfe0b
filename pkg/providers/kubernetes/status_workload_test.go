package kubernetes

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestStatusShowsPodsImageAndCertificate: after an apply, the API
// Deployment's line carries its pods against the autoscaler and the image
// against the spec's; the origin certificate's line its expiry, judged
// against the renewal window (valid, expiring, expired); an image changed by hand shows as not the
// spec's. Nothing of the key reaches the status.
func TestStatusShowsPodsImageAndCertificate(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "us-east"
	ctx := context.Background()
	st, p, out := appliedStack(t, region, "statusfacts")
	defer func() { applyAll(t, p, planRegion(t, p, out, provider.Options{Destroy: true}), out) }()

	hs, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dep := line(hs, "Deployment", "statusfacts/"+AppName)
	r := st.Spec.Region(region)
	if dep == nil || dep.Pods == nil || dep.Image == nil {
		t.Fatalf("the API Deployment's line has no pods or image: %+v", dep)
	}
	// No autoscaler runs here: the Deployment keeps the replicas it has.
	d, err := env.Clientset(region).AppsV1().Deployments("statusfacts").Get(ctx, AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := int(*d.Spec.Replicas)
	if want := (provider.Pods{Ready: n, Desired: n, HPAMin: r.Replicas.Min, HPAMax: r.Replicas.Max}); *dep.Pods != want {
		t.Errorf("pods = %+v, want %+v", *dep.Pods, want)
	}
	if want := (provider.Image{Running: st.Spec.Workload.Image, Expected: st.Spec.Workload.Image, Matches: true}); *dep.Image != want {
		t.Errorf("image = %+v, want %+v", *dep.Image, want)
	}
	cert := line(hs, "OriginCertificate", "statusfacts/"+tlsSecret)
	if cert == nil || cert.Certificate == nil || cert.State != "Valid" || !cert.Healthy || cert.Certificate.DaysLeft != 89 {
		t.Fatalf("certificate line = %+v", cert)
	}
	if cert.Certificate.Subject != "CN=api.nekodefense.example" {
		t.Errorf("certificate subject = %q", cert.Certificate.Subject)
	}
	// Eighty days on, it is inside the default renewal window (30 days).
	p.opts.Now = func() time.Time { return time.Now().Add(80 * 24 * time.Hour) }
	cert = line(mustStatus(t, p), "OriginCertificate", "statusfacts/"+tlsSecret)
	if cert == nil || cert.State != "Expiring" || cert.Healthy || !strings.Contains(cert.Detail, "run nekoctl up to renew it") {
		t.Errorf("inside the renewal window, certificate line = %+v", cert)
	}
	st.Spec.Cloudflare.OriginCert.RenewBefore = &spec.Duration{Duration: time.Hour}
	if cert = line(mustStatus(t, p), "OriginCertificate", "statusfacts/"+tlsSecret); cert == nil || cert.State != "Valid" || !cert.Healthy {
		t.Errorf("with a renewal window of an hour, certificate line = %+v", cert)
	}
	p.opts.Now = func() time.Time { return time.Now().Add(originCertValidity + time.Hour) }
	if cert = line(mustStatus(t, p), "OriginCertificate", "statusfacts/"+tlsSecret); cert == nil || cert.State != "Expired" || cert.Healthy {
		t.Errorf("after its expiry, certificate line = %+v", cert)
	}
	p.opts.Now = time.Now

	patch := `[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"neko-defense/nekoctl:0.9.0"}]`
	if _, err := env.Clientset(region).AppsV1().Deployments("statusfacts").Patch(ctx, AppName, types.JSONPatchType,
		[]byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	hs = mustStatus(t, p)
	if dep = line(hs, "Deployment", "statusfacts/"+AppName); dep == nil || dep.Image == nil ||
		dep.Image.Matches || dep.Image.Running != "neko-defense/nekoctl:0.9.0" {
		t.Errorf("after a hand-made image change, image = %+v", dep)
	}
	raw, err := json.Marshal(hs)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"PRIVATE KEY", strings.Split(originKey, "\n")[1]} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("status carries the origin key (%q)", secret)
		}
	}
}

func mustStatus(t *testing.T, p *Provider) []provider.Health {
	t.Helper()
	hs, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func line(hs []provider.Health, kind, name string) *provider.Health {
	for i := range hs {
		if hs[i].Address.Kind == kind && hs[i].Address.Name == name {
			return &hs[i]
		}
	}
	return nil
}

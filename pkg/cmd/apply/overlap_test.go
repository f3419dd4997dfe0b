package apply

import (
	"context"
	"sync"
	"testing"

	corev1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestOverlappingUpsHeal runs two `up` at once through the CLI's code path,
// with nothing to keep them apart, so that both plan before either applies
// and the account gets a second monitor, a second pool per region and a
// second Origin CA certificate. One more `up` must heal the stack: one of
// each, the regions' TLS Secrets holding the one certificate left, an empty
// plan; `down --force` then leaves no certificate behind.
func TestOverlappingUpsHeal(t *testing.T) {
	w := newWorld(t)

	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			// --lock=false: the lock would keep them apart.
			out, err := w.run(t, "up", func(o *ApplyOptions) { o.Lock.Enabled = false })
			t.Logf("overlapping up %d: %s", i, firstLine(err))
			if err != nil {
				t.Logf("%s", out)
			}
		})
	}
	wg.Wait()
	if n := w.CF.CallsMatching("POST", "/load_balancers/monitors"); n < 2 {
		t.Fatalf("the two runs did not overlap (%d monitor creates): nothing to heal", n)
	}
	t.Logf("after the overlap: %d monitors, %d pools, %d load balancers, %d certificates",
		len(w.CF.Monitors()), len(w.CF.Pools()), len(w.CF.LoadBalancers("nekodefense.example")), w.CF.CertificateCount())

	out, err := w.run(t, "up", nil)
	if err != nil {
		t.Fatalf("healing up: %v\n%s", err, out)
	}
	if out, err := w.run(t, "plan", nil); err != nil {
		t.Fatalf("the plan after one healing up is not empty (%v):\n%s", err, out)
	}
	if n := len(w.CF.Monitors()); n != 1 {
		t.Errorf("monitors = %d, want 1", n)
	}
	if n := len(w.CF.Pools()); n != len(regions) {
		t.Errorf("pools = %d, want %d", n, len(regions))
	}
	if n := len(w.CF.LoadBalancers("nekodefense.example")); n != 1 {
		t.Errorf("load balancers = %d, want 1", n)
	}
	certs := w.CF.CertificatePEMs()
	if len(certs) != 1 {
		t.Fatalf("origin certificates = %d, want 1", len(certs))
	}
	for _, pem := range certs {
		for _, r := range regions {
			s, err := w.Kube.Clientset(r).CoreV1().Secrets("neko-defense").Get(context.Background(), "neko-api-origin-tls", corev1.GetOptions{})
			if err != nil {
				t.Fatalf("%s: %v", r, err)
			}
			if string(s.Data["tls.crt"]) != pem {
				t.Errorf("%s: the TLS Secret does not hold the one live certificate", r)
			}
		}
	}

	if out, err := w.run(t, "down", func(o *ApplyOptions) { o.Provider.Force = true }); err != nil {
		t.Fatalf("down --force: %v\n%s", err, out)
	}
	if n := w.CF.CertificateCount(); n != 0 {
		t.Errorf("certificates left after down --force: %d", n)
	}
}

package apply

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPendingZoneIsRefusedBeforeAnyWrite runs `up` on a zone whose name
// servers are not set at the registrar yet: it fails naming them, and no
// provider has written anything (Cloudflare writes are counted at the
// emulator; no Atlas project and no namespace exist).
func TestPendingZoneIsRefusedBeforeAnyWrite(t *testing.T) {
	w := newWorld(t)
	w.CF.SetZoneStatus("nekodefense.example", "pending")
	out, err := w.run(t, "up", nil)
	if err == nil {
		t.Fatalf("up on a pending zone succeeded:\n%s", out)
	}
	for _, want := range []string{"zone nekodefense.example is pending", "ada.ns.cloudflare.com, bob.ns.cloudflare.com"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for call, n := range w.CF.Calls() {
		if !strings.HasPrefix(call, "GET ") {
			t.Errorf("Cloudflare got a write: %s (%d)", call, n)
		}
	}
	if _, ok := w.Atlas.ProjectID("neko-defense"); ok {
		t.Error("an Atlas project was created")
	}
	for _, r := range regions {
		if _, err := w.Kube.Clientset(r).CoreV1().Namespaces().Get(context.Background(), "neko-defense", corev1.GetOptions{}); err == nil {
			t.Errorf("%s: the namespace was created", r)
		}
	}
}

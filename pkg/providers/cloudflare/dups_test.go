package cloudflare

import (
	"maps"
	"strings"
	"testing"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestOverlappingRunsHealInOneUp makes two runs plan against an empty zone
// and then both apply, as two `up` that overlap do: the account ends with
// two monitors, two pools per region and two Origin CA certificates, and
// the regions' Secret holds the first run's key. The next plan keeps what
// the stack uses (the pools the load balancer points at, their monitor,
// the certificate whose key the Secret holds), plans every other copy as a
// delete with the reason, and one apply converges.
func TestOverlappingRunsHealInOneUp(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	p1, c1, o1 := e.mustPlan(provider.Options{})
	p2, c2, o2 := e.mustPlan(provider.Options{})
	if err := e.apply(p1, c1, o1); err != nil {
		t.Fatalf("first run: %v", err)
	}
	secret := maps.Clone(e.secret)
	if err := e.apply(p2, c2, o2); err != nil {
		t.Fatalf("second run: %v", err)
	}
	e.secret = secret // the regions' Secrets were last written by the first run
	if n, c := len(e.emu.Monitors()), e.emu.CertificateCount(); n != 2 || c != 2 {
		t.Fatalf("monitors = %d, certificates = %d after the overlap, want 2 and 2", n, c)
	}
	var keptCert string
	key := e.secret[provider.OutOriginKey].(plan.Sensitive).Reveal()
	for id, pem := range e.emu.CertificatePEMs() {
		if keyMatches(key, pem) {
			keptCert = id
		}
	}

	p, changes, out := e.mustPlan(provider.Options{})
	if n := count(changes, plan.Replace); n != 0 {
		t.Errorf("replaces = %d, want none: %v", n, pending(changes))
	}
	if n := count(changes, plan.Delete); n != 1+len(ingress)+1+1 {
		t.Errorf("deletes = %d, want a monitor, a pool per region, a certificate and a notification policy: %v", n, pending(changes))
	}
	for _, c := range changes {
		if c.Action != plan.Delete {
			continue
		}
		if !strings.Contains(c.Address.Name, "#") || !strings.Contains(c.Reason, "overlapped") && !strings.Contains(c.Reason, "a second") {
			t.Errorf("%s: delete without a duplicate's reason: %q", c.Address, c.Reason)
		}
		if c.Address.Kind == KindOriginCert && (strings.Contains(c.Address.Name, keptCert) || !strings.Contains(c.Reason, "hold the key of certificate "+keptCert)) {
			t.Errorf("%s: the certificate whose key the Secrets hold must be kept: %q", c.Address, c.Reason)
		}
	}
	if err := e.apply(p, changes, out); err != nil {
		t.Fatalf("healing apply: %v", err)
	}
	if got := pending(e.run(provider.Options{})); len(got) != 0 {
		t.Errorf("plan after healing is not empty: %v", got)
	}
	if n := len(e.emu.Monitors()); n != 1 {
		t.Errorf("monitors = %d, want 1", n)
	}
	if n := len(e.emu.Pools()); n != len(ingress) {
		t.Errorf("pools = %d, want %d", n, len(ingress))
	}
	if certs := e.emu.CertificatePEMs(); len(certs) != 1 || certs[keptCert] == "" {
		t.Errorf("certificates = %v, want only %s", len(certs), keptCert)
	}

	e.run(provider.Options{Destroy: true, Force: true})
	if n := e.emu.CertificateCount(); n != 0 {
		t.Errorf("certificates left after down --force: %d", n)
	}
}

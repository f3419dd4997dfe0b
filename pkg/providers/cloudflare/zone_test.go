package cloudflare

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/planfile"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// enginePlan plans the test stack through the engine with region stubs.
func (e *testEnv) enginePlan(opts provider.Options) *engine.Planned {
	e.t.Helper()
	c, err := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: e.emu.Token(), EnvBaseURL: e.emu.URL()}[k]
	}, nil, rate.NewLimiter(rate.Inf, 1))
	if err != nil {
		e.t.Fatal(err)
	}
	provs := []provider.Provider{New(e.st, c, Config{})}
	for _, r := range e.st.Spec.Regions {
		provs = append(provs, &regionStub{region: r.Name, secret: e.secret})
	}
	eng := &engine.Engine{Providers: provs, Parallelism: 4, Now: time.Now}
	return eng.Plan(context.Background(), e.st.Metadata.Name, opts)
}

// TestPendingZoneIsRefusedBeforeAnyWrite: a zone whose name servers are not
// yet set at the registrar serves nothing, so the plan fails naming the
// name servers, and nothing is written.
func TestPendingZoneIsRefusedBeforeAnyWrite(t *testing.T) {
	for _, status := range []string{"pending", "initializing", "moved"} {
		t.Run(status, func(t *testing.T) {
			e := newEnv(t, cfemu.Pro)
			e.emu.SetZoneStatus(testZone, status)
			pl := e.enginePlan(provider.Options{})
			if !pl.Plan.HasErrors() {
				t.Fatalf("a %s zone was planned: %v", status, pending(pl.Plan.Changes))
			}
			msg := pl.Plan.Diagnostics[len(pl.Plan.Diagnostics)-1].Message
			for _, want := range []string{"zone " + testZone + " is " + status, "ada.ns.cloudflare.com, bob.ns.cloudflare.com", "nothing was applied"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error lacks %q: %s", want, msg)
				}
			}
			if n := e.emu.Writes(); n != 0 {
				t.Errorf("%d writes reached Cloudflare: %v", n, e.emu.Calls())
			}
		})
	}
	t.Run("down still works", func(t *testing.T) {
		e := newEnv(t, cfemu.Pro)
		e.emu.SetZoneStatus(testZone, "pending")
		if pl := e.enginePlan(provider.Options{Destroy: true}); pl.Plan.HasErrors() {
			t.Errorf("down of a pending zone was refused: %+v", pl.Plan.Diagnostics)
		}
	})
}

// TestZoneOfAnotherAccountIsRefused names both account ids.
func TestZoneOfAnotherAccountIsRefused(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	const other = "fedcba9876543210fedcba9876543210"
	e.emu.MoveZoneToAccount(testZone, other)
	pl := e.enginePlan(provider.Options{})
	if !pl.Plan.HasErrors() {
		t.Fatal("a zone of another account was planned")
	}
	msg := pl.Plan.Diagnostics[len(pl.Plan.Diagnostics)-1].Message
	if !strings.Contains(msg, other) || !strings.Contains(msg, cfemu.DefaultAccount) {
		t.Errorf("error does not name both accounts: %s", msg)
	}
	if n := e.emu.Writes(); n != 0 {
		t.Errorf("%d writes reached Cloudflare", n)
	}
}

// TestPlanShowsZoneTierAndStatus: the plan says what it planned against.
func TestPlanShowsZoneTierAndStatus(t *testing.T) {
	e := newEnv(t, cfemu.Business)
	pl := e.enginePlan(provider.Options{})
	var got []string
	for _, d := range pl.Plan.Diagnostics {
		if d.Severity == plan.SeverityInfo {
			got = append(got, d.Message)
		}
	}
	want := "zone " + testZone + ": Business Website plan, status active, name servers ada.ns.cloudflare.com, bob.ns.cloudflare.com"
	if len(got) != 1 || got[0] != want {
		t.Errorf("info diagnostics = %q, want [%q]", got, want)
	}
}

// TestSavedPlanIsStaleAfterAnEditBehindItsBack: a zone setting edited in
// the dashboard and set back to its value leaves the documents equal, yet
// the saved plan is refused naming it, because the setting's modified_on
// (its fingerprint) moved.
func TestSavedPlanIsStaleAfterAnEditBehindItsBack(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.st.Spec.Cloudflare.Caching.Level = "basic"
	saved := &planfile.File{Plan: e.enginePlan(provider.Options{}).Plan}
	if _, err := planfile.Check(saved, e.enginePlan(provider.Options{}).Plan); err != nil {
		t.Fatalf("an untouched plan is stale: %v", err)
	}
	zid := e.emu.ZoneID(testZone)
	for _, v := range []string{"1.3", "1.2"} {
		if _, err := e.emu.Seed("PATCH", "/zones/"+zid+"/settings/min_tls_version", map[string]any{"value": v}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := planfile.Check(saved, e.enginePlan(provider.Options{}).Plan)
	var stale *planfile.StaleError
	if !errors.As(err, &stale) || len(stale.Problems) != 1 || stale.Problems[0].Address != `cloudflare[zone/nekodefense.example].zone_setting["min_tls_version"]` {
		t.Fatalf("err = %v", err)
	}
}

package cloudflare

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// seed makes an object by hand through the emulator's API and returns its id.
func (e *testEnv) seed(path string, body map[string]any) string {
	e.t.Helper()
	raw, err := e.emu.Seed("POST", path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	var o struct{ ID string }
	if err := json.Unmarshal(raw, &o); err != nil {
		e.t.Fatal(err)
	}
	return o.ID
}

// handMadeGuideStack builds the guide's Cloudflare objects by hand, as a
// reader of the deployment guide does in the dashboard: proxied A records
// for api and www.api, a health monitor, a pool per region under the name
// nekoctl gives it, and the geo load balancer on api.
func (e *testEnv) handMadeGuideStack() {
	zid := e.emu.ZoneID(testZone)
	for _, name := range []string{"api", "www.api"} {
		e.seed("/zones/"+zid+"/dns_records", map[string]any{"name": name, "type": "A", "content": ingress["us-east"], "proxied": true, "ttl": 1})
	}
	acct := "/accounts/" + cfemu.DefaultAccount + "/load_balancers/"
	mon := e.seed(acct+"monitors", map[string]any{"type": "https", "path": "/health", "expected_codes": "200", "interval": 60,
		"header": map[string]any{"Host": []string{"api." + testZone}}, "description": "api health (guide step 6)"})
	pools := map[string]string{}
	for _, r := range []string{"us-east", "eu-west", "asia-pacific"} {
		pools[r] = e.seed(acct+"pools", map[string]any{"name": PoolName("neko", r), "monitor": mon, "minimum_origins": 1,
			"origins": []map[string]any{{"name": r, "address": ingress[r], "enabled": true, "weight": 1}}})
	}
	e.seed("/zones/"+zid+"/load_balancers", map[string]any{"name": "api", "proxied": true, "steering_policy": "geo",
		"fallback_pool": pools["us-east"], "default_pools": []string{pools["us-east"], pools["eu-west"], pools["asia-pacific"]},
		"region_pools": map[string]any{"WNAM": []string{pools["us-east"]}, "WEU": []string{pools["eu-west"]}, "NEAS": []string{pools["asia-pacific"]}}})
}

// TestHandMadeGuideStackIsAdopted: the guide's objects made by hand are
// planned as conflicts with their field differences, before anything is
// written; applying one is refused; with --adopt they are taken over
// (marked owned, owned fields set, no second copy made) and the next plan
// is empty. The api record the load balancer shadows is reported and left.
func TestHandMadeGuideStackIsAdopted(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.handMadeGuideStack()
	e.emu.ResetCalls()

	p, changes, out := e.mustPlan(provider.Options{})
	acct := "cloudflare[account/" + cfemu.DefaultAccount + "]."
	want := []string{
		"adopt " + acct + `monitor["health"]`,
		"adopt " + acct + `pool["asia-pacific"]`,
		"adopt " + acct + `pool["eu-west"]`,
		"adopt " + acct + `pool["us-east"]`,
		`adopt cloudflare[zone/nekodefense.example].dns_record["www.api.nekodefense.example"]`,
		`adopt cloudflare[zone/nekodefense.example].load_balancer["api.nekodefense.example"]`,
	}
	var adoptions []string
	fields := map[string][]string{}
	for _, c := range changes {
		if c.Action != plan.Adopt {
			continue
		}
		adoptions = append(adoptions, string(c.Action)+" "+c.Address.String())
		if c.Conflict != provider.ConflictUnowned || c.Fingerprint == "" {
			t.Errorf("%s: conflict %q, fingerprint %q", c.Address, c.Conflict, c.Fingerprint)
		}
		for _, f := range c.Fields {
			fields[c.Address.Kind] = append(fields[c.Address.Kind], f.Path)
		}
	}
	sortStrings(adoptions)
	if diff := cmp.Diff(want, adoptions); diff != "" {
		t.Errorf("adoptions (-want +got):\n%s", diff)
	}
	for kind, path := range map[string]string{KindDNSRecord: "type", KindMonitor: "description", KindPool: "description", KindLB: "region_pools.EEU"} {
		if !contains(fields[kind], path) {
			t.Errorf("%s adoption does not show %s: %v", kind, path, fields[kind])
		}
	}
	if n := e.emu.Writes(); n != 0 {
		t.Errorf("planning wrote %d times", n)
	}
	if err := e.apply(p, changes, out); err == nil || !strings.Contains(err.Error(), "--adopt") {
		t.Errorf("applying the conflicts: err = %v", err)
	}
	if n := e.emu.Writes(); n != 0 {
		t.Errorf("a refused adoption wrote %d times", n)
	}
	warned := false
	for _, d := range p.Diagnostics() {
		warned = warned || d.Severity == plan.SeverityWarning && strings.Contains(d.Message, "api."+testZone+" has DNS records nekoctl does not own (A "+ingress["us-east"]+")")
	}
	if !warned {
		t.Errorf("no warning about the api record the load balancer shadows: %+v", p.Diagnostics())
	}

	p, changes, out = e.mustPlan(provider.Options{Adopt: true})
	for _, c := range changes {
		if c.Conflict != "" {
			t.Errorf("conflict with --adopt: %s: %s", c.Address, c.Conflict)
		}
	}
	if err := e.apply(p, changes, out); err != nil {
		t.Fatalf("adopting: %v", err)
	}
	if got := pending(e.run(provider.Options{})); len(got) != 0 {
		t.Errorf("plan after adopting is not empty: %v", got)
	}
	mons, pools, lbs := e.emu.Monitors(), e.emu.Pools(), e.emu.LoadBalancers(testZone)
	if len(mons) != 1 || mons[0].Description != Marker("neko") || mons[0].Type != "https" {
		t.Errorf("monitors after adopting: %+v", mons)
	}
	if len(pools) != 3 || len(lbs) != 1 || lbs[0].Description != Marker("neko") || len(lbs[0].RegionPools) != 13 {
		t.Errorf("%d pools and load balancers %+v after adopting", len(pools), lbs)
	}
	for _, pl := range pools {
		if pl.Description != Marker("neko") || pl.Monitor != mons[0].ID {
			t.Errorf("pool %s after adopting: %+v", pl.Name, pl)
		}
	}
	var recs []string
	for _, r := range e.emu.Records(testZone) {
		recs = append(recs, r.Name+" "+r.Type+" "+r.Content+" "+r.Comment)
	}
	sortStrings(recs)
	wantRecs := []string{"api." + testZone + " A " + ingress["us-east"] + " ", "www.api." + testZone + " CNAME api." + testZone + " " + Marker("neko")}
	if diff := cmp.Diff(wantRecs, recs); diff != "" {
		t.Errorf("records after adopting (-want +got):\n%s", diff)
	}

	// Adopted objects are the stack's: down deletes them like any other.
	e.run(provider.Options{Destroy: true})
	if n := len(e.emu.Pools()) + len(e.emu.Monitors()) + len(e.emu.LoadBalancers(testZone)); n != 0 {
		t.Errorf("%d load-balancing objects left after down", n)
	}
}

// TestAdoptingRecordsOfAnotherShape: two A records made by hand at www.api
// (round robin) are adopted as the stack's one CNAME, the plan saying the
// second goes with it; with load balancing off, a CNAME made by hand at api
// becomes the stack's A record.
func TestAdoptingRecordsOfAnotherShape(t *testing.T) {
	t.Run("round robin", func(t *testing.T) {
		e := newEnv(t, cfemu.Pro)
		for _, a := range []string{"198.51.100.1", "198.51.100.2"} {
			e.seed("/zones/"+e.emu.ZoneID(testZone)+"/dns_records", map[string]any{"name": "www.api", "type": "A", "content": a, "proxied": true})
		}
		_, changes, _ := e.mustPlan(provider.Options{Adopt: true})
		c := changeOf(t, changes, KindDNSRecord, "www.api."+testZone)
		if c.Action != plan.Adopt || len(c.Notes) != 1 || !strings.Contains(c.Notes[0], "deleted when it is adopted: A 198.51.100.2") {
			t.Errorf("adoption = %s, notes %q", c.Action, c.Notes)
		}
		e.run(provider.Options{Adopt: true})
		recs := e.emu.Records(testZone)
		if len(recs) != 1 || recs[0].Type != "CNAME" || recs[0].Comment != Marker("neko") {
			t.Errorf("records after adopting: %+v", recs)
		}
	})
	t.Run("cname to address", func(t *testing.T) {
		e := newEnv(t, cfemu.Pro)
		e.st.Spec.Cloudflare.LoadBalancer.Enabled = spec.Bool(false)
		e.seed("/zones/"+e.emu.ZoneID(testZone)+"/dns_records", map[string]any{"name": "api", "type": "CNAME", "content": "elsewhere.example.net", "proxied": true})
		e.run(provider.Options{Adopt: true})
		if got := pending(e.run(provider.Options{})); len(got) != 0 {
			t.Errorf("plan after adopting is not empty: %v", got)
		}
		byName := map[string]cfemu.Record{}
		for _, r := range e.emu.Records(testZone) {
			byName[r.Name] = r
		}
		if r := byName["api."+testZone]; len(byName) != 2 || r.Type != "A" || r.Content != ingress["us-east"] || r.Comment != Marker("neko") {
			t.Errorf("records after adopting: %+v", byName)
		}
	})
}

// TestAnotherStacksRecordIsNotAdopted: a record carrying another stack's
// marker at this stack's hostname stays a conflict even with --adopt.
func TestAnotherStacksRecordIsNotAdopted(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.seed("/zones/"+e.emu.ZoneID(testZone)+"/dns_records", map[string]any{"name": "www.api", "type": "CNAME", "content": "api." + testZone,
		"proxied": true, "comment": Marker("other")})
	_, changes, _ := e.mustPlan(provider.Options{Adopt: true})
	c := changeOf(t, changes, KindDNSRecord, "www.api."+testZone)
	if c.Action != plan.Adopt || !strings.Contains(c.Conflict, `owned by nekoctl stack "other"`) {
		t.Errorf("change = %s, conflict %q", c.Action, c.Conflict)
	}
}

func changeOf(t *testing.T, changes []plan.Change, kind, name string) plan.Change {
	t.Helper()
	for _, c := range changes {
		if c.Address.Kind == kind && c.Address.Name == name {
			return c
		}
	}
	t.Fatalf("no change of %s %s", kind, name)
	return plan.Change{}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEveryReadCarriesAFingerprint: every resource read names the live
// version it saw (modified_on, a rule's version, a certificate's id and
// expiry), and a change behind nekoctl's back changes exactly the
// fingerprints of what it touched, even when the value ends as it was.
func TestEveryReadCarriesAFingerprint(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	read := func() map[string]string {
		t.Helper()
		live, err := e.provider().Read(t.Context(), e.outputs())
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, r := range live {
			if r.Fingerprint == "" {
				t.Errorf("%s: read without a fingerprint", r.Address)
			}
			out[r.Address.String()] = r.Fingerprint
		}
		return out
	}
	before := read()
	if len(before) < 20 {
		t.Fatalf("read %d resources", len(before))
	}
	zid := e.emu.ZoneID(testZone)
	for _, v := range []string{"1.3", "1.2"} {
		if _, err := e.emu.Seed("PATCH", "/zones/"+zid+"/settings/min_tls_version", map[string]any{"value": v}); err != nil {
			t.Fatal(err)
		}
	}
	pools := e.emu.Pools()
	pl := pools[0]
	pl.Description = Marker("neko")
	if _, err := e.emu.Seed("PUT", "/accounts/"+cfemu.DefaultAccount+"/load_balancers/pools/"+pl.ID, pl); err != nil {
		t.Fatal(err)
	}
	after := read()
	var changed []string
	for a, fp := range after {
		if before[a] != fp {
			changed = append(changed, a)
		}
	}
	sortStrings(changed)
	want := []string{
		"cloudflare[account/" + cfemu.DefaultAccount + `].pool["` + strings.TrimPrefix(pl.Name, PoolName("neko", "")) + `"]`,
		`cloudflare[zone/nekodefense.example].zone_setting["min_tls_version"]`,
	}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("fingerprints changed (-want +got):\n%s", diff)
	}
}

package cloudflare

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// PlanCalls is the number of Cloudflare API calls a plan of the guide's
// three-region stack makes against a populated zone: zone lookup, DNS
// records, 11 zone settings, 3 ruleset phases, monitors, pools,
// load balancers, Origin CA certificates and notification policies. A
// regression fails here.
const PlanCalls = 21

func TestPlanCallCountOfPopulatedZone(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.emu.ResetCalls()
	_, changes, _ := e.mustPlan(provider.Options{})
	if got := pending(changes); len(got) != 0 {
		t.Fatalf("plan of a populated zone is not empty: %v", got)
	}
	zid := e.emu.ZoneID(testZone)
	acct := "/client/v4/accounts/" + cfemu.DefaultAccount + "/load_balancers/"
	want := map[string]int{
		"GET /client/v4/zones":                                                      1,
		"GET /client/v4/zones/" + zid + "/dns_records":                              1,
		"GET " + acct + "monitors":                                                  1,
		"GET " + acct + "pools":                                                     1,
		"GET /client/v4/zones/" + zid + "/load_balancers":                           1,
		"GET /client/v4/certificates":                                               1,
		"GET /client/v4/accounts/" + cfemu.DefaultAccount + "/alerting/v3/policies": 1,
	}
	for _, s := range settingIDs {
		want["GET /client/v4/zones/"+zid+"/settings/"+s] = 1
	}
	for _, ph := range phases {
		want["GET /client/v4/zones/"+zid+"/rulesets/phases/"+ph+"/entrypoint"] = 1
	}
	if diff := cmp.Diff(want, e.emu.Calls()); diff != "" {
		t.Errorf("calls of a plan (-want +got):\n%s", diff)
	}
	if got := e.emu.TotalCalls(); got != PlanCalls {
		t.Errorf("a plan made %d calls, want %d", got, PlanCalls)
	}
}

func TestOneChangedSettingIsOneUpdate(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.st.Spec.Cloudflare.Caching.Level = "basic"
	e.emu.ResetCalls()
	changes := e.run(provider.Options{})
	want := []string{`update cloudflare[zone/nekodefense.example].zone_setting["cache_level"]`}
	if diff := cmp.Diff(want, pending(changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, c := range changes {
		if c.Action == plan.Update {
			if diff := cmp.Diff([]plan.Field{{Path: "value", Before: "aggressive", After: "basic"}}, c.Fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		}
	}
	if n := e.emu.CallsMatching("PATCH", "/settings/cache_level"); n != 1 {
		t.Errorf("PATCH cache_level calls = %d, want 1", n)
	}
	if got := e.emu.TotalCalls(); got != PlanCalls+1 {
		t.Errorf("plan+apply made %d calls, want %d", got, PlanCalls+1)
	}
	if got := e.emu.Setting(testZone, "cache_level"); got != "basic" {
		t.Errorf("cache_level = %v", got)
	}
}

func seedForeign(t *testing.T, e *testEnv) (monID, poolID string) {
	t.Helper()
	zid := e.emu.ZoneID(testZone)
	mustSeed := func(method, path string, body any) map[string]any {
		t.Helper()
		raw, err := e.emu.Seed(method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		return m
	}
	mustSeed("POST", "/zones/"+zid+"/dns_records", map[string]any{"name": "status", "type": "A", "content": "198.51.100.7", "proxied": true, "comment": "hand-made"})
	mustSeed("PUT", "/zones/"+zid+"/rulesets/phases/http_request_cache_settings/entrypoint", map[string]any{"rules": []any{
		map[string]any{"ref": "dashboard-images", "action": "set_cache_settings", "expression": `starts_with(http.request.uri.path, "/img/")`, "action_parameters": map[string]any{"cache": true}},
	}})
	mustSeed("PUT", "/zones/"+zid+"/rulesets/phases/http_ratelimit/entrypoint", map[string]any{"rules": []any{
		map[string]any{"ref": "dashboard-login", "action": "block", "expression": `http.request.uri.path eq "/login"`,
			"ratelimit": map[string]any{"characteristics": []string{"cf.colo.id", "ip.src"}, "period": 10, "requests_per_period": 5, "mitigation_timeout": 60}},
	}})
	mon := mustSeed("POST", "/accounts/"+cfemu.DefaultAccount+"/load_balancers/monitors", map[string]any{"type": "http", "description": "team billing", "expected_codes": "200", "interval": 60, "timeout": 5})
	pool := mustSeed("POST", "/accounts/"+cfemu.DefaultAccount+"/load_balancers/pools", map[string]any{"name": "billing-eu", "description": "team billing", "monitor": mon["id"],
		"origins": []any{map[string]any{"name": "b1", "address": "198.51.100.9", "enabled": true}}})
	return mon["id"].(string), pool["id"].(string)
}

func TestForeignObjectsSurviveUpAndDown(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	monID, poolID := seedForeign(t, e)
	e.run(provider.Options{})

	check := func(stage string, ours int) {
		t.Helper()
		recs := e.emu.Records(testZone)
		if len(recs) != 1+ours || recs[0].Comment != "hand-made" {
			t.Errorf("%s: records = %+v", stage, recs)
		}
		cache := e.emu.PhaseRules(testZone, "http_request_cache_settings")
		if len(cache) != 1+2*ours || cache[0].Ref != "dashboard-images" {
			t.Errorf("%s: cache rules = %+v", stage, cache)
		}
		rl := e.emu.PhaseRules(testZone, "http_ratelimit")
		if len(rl) != 1+ours || rl[0].Ref != "dashboard-login" {
			t.Errorf("%s: rate limit rules = %+v", stage, rl)
		}
		pools := e.emu.Pools()
		if len(pools) != 1+3*ours || pools[0].ID != poolID {
			t.Errorf("%s: pools = %+v", stage, pools)
		}
		mons := e.emu.Monitors()
		if len(mons) != 1+ours || mons[0].ID != monID {
			t.Errorf("%s: monitors = %+v", stage, mons)
		}
	}
	check("after up", 1)
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("plan after up with foreign objects is not empty: %v", got)
	}

	down := e.run(provider.Options{Destroy: true})
	for _, c := range down {
		if c.Address.Kind == KindZoneSetting {
			t.Errorf("down touches zone setting %s", c.Address.Name)
		}
	}
	check("after down", 0)
	if n := e.emu.CertificateCount(); n != 0 {
		t.Errorf("certificates after down = %d, want 0 (revoked)", n)
	}
	if n := len(e.emu.LoadBalancers(testZone)); n != 0 {
		t.Errorf("load balancers after down = %d", n)
	}
	_, again, _ := e.mustPlan(provider.Options{Destroy: true})
	if got := pending(again); len(got) != 0 {
		t.Errorf("second down plans changes: %v", got)
	}
}

func TestTwoStacksShareAZone(t *testing.T) {
	e := newEnv(t, cfemu.Business)
	e.run(provider.Options{})
	other := globalStack()
	other.Metadata.Name = "neko-staging"
	other.Spec.Hostnames = []string{"staging-api"}
	other.Spec.Cloudflare.RateLimits = nil
	other.Spec.Cloudflare.WAF.ManagedRulesets = []string{}
	e2 := &testEnv{t: t, emu: e.emu, st: other, now: e.now, secret: map[string]any{}}
	e2.run(provider.Options{})
	e2.run(provider.Options{Destroy: true})
	_, changes, _ := e.mustPlan(provider.Options{})
	if got := pending(changes); len(got) != 0 {
		t.Errorf("the first stack changed after the second came and went: %v", got)
	}
}

func TestPlanTierViolations(t *testing.T) {
	tests := []struct {
		name  string
		plan  string
		edit  func(*spec.Cloudflare)
		wants []string
	}{
		{"guide on free", cfemu.Free, func(*spec.Cloudflare) {}, []string{
			`zone nekodefense.example is on the free plan: rate limit "graphql": period 1m0s is not allowed (allowed: 10s)`,
			`rate limit "graphql": mitigationTimeout 10m0s is not allowed (allowed: 10s)`,
			`the managed WAF ruleset "cloudflare-managed" needs the Pro plan or higher`,
			`the managed WAF ruleset "owasp" needs the Pro plan or higher`,
		}},
		{"too many rate limits on pro", cfemu.Pro, func(c *spec.Cloudflare) {
			c.RateLimits = append(c.RateLimits, c.RateLimits[0], c.RateLimits[0])
			c.RateLimits[1].Name, c.RateLimits[2].Name = "b", "c"
		}, []string{"3 rate limiting rules (3 from the spec, 0 made by others) exceed the plan's 2"}},
		{"period too long on pro", cfemu.Pro, func(c *spec.Cloudflare) {
			c.RateLimits[0].Period = spec.Duration{Duration: 10 * time.Minute}
		}, []string{`rate limit "graphql": period 10m0s is not allowed (allowed: 10s, 15s, 20s, 30s, 40s, 45s, 60s)`}},
		{"challenge needs zero timeout", cfemu.Business, func(c *spec.Cloudflare) {
			c.RateLimits[0].Action = "managed_challenge"
		}, []string{`the managed_challenge action needs mitigationTimeout 0 below Enterprise`}},
		{"monitor interval", cfemu.Pro, func(c *spec.Cloudflare) {
			c.LoadBalancer.Monitor.Interval = spec.Dur(5 * time.Second)
		}, []string{"monitor interval 5s is below the minimum of 15s"}},
		{"too many cache rules on free", cfemu.Free, func(c *spec.Cloudflare) {
			c.WAF.ManagedRulesets = []string{"free-managed"}
			c.RateLimits[0].Period = spec.Duration{Duration: 10 * time.Second}
			c.RateLimits[0].MitigationTimeout = spec.Duration{Duration: 10 * time.Second}
			for i := range 10 {
				c.CacheRules = append(c.CacheRules, spec.CacheRule{Name: "r" + string(rune('a'+i)), Path: "/x", Cache: true})
			}
		}, []string{"12 cache rules (12 from the spec, 0 made by others) exceed the plan's 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.plan)
			tt.edit(&e.st.Spec.Cloudflare)
			e.emu.ResetCalls()
			_, _, _, err := e.plan(provider.Options{})
			if err == nil {
				t.Fatal("plan succeeded")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
			if n := e.emu.CallsMatching("", "") - e.emu.CallsMatching("GET", ""); n != 0 {
				t.Errorf("%d writes before validation failed", n)
			}
		})
	}
}

func TestForeignRulesCountAgainstPlanLimit(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	seedForeign(t, e)
	e.st.Spec.Cloudflare.RateLimits = append(e.st.Spec.Cloudflare.RateLimits, e.st.Spec.Cloudflare.RateLimits[0])
	e.st.Spec.Cloudflare.RateLimits[1].Name = "second"
	_, _, _, err := e.plan(provider.Options{})
	if err == nil || !strings.Contains(err.Error(), "3 rate limiting rules (2 from the spec, 1 made by others) exceed the plan's 2") {
		t.Errorf("err = %v", err)
	}
}

func TestSettingNotEditable(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.emu.SetEditable(testZone, "early_hints", false)
	_, _, _, err := e.plan(provider.Options{})
	if err == nil || !strings.Contains(err.Error(), "zone setting early_hints is not editable on the zone's pro plan") {
		t.Errorf("err = %v", err)
	}
}

func TestRetiredSettingsAreNotesNotFailures(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.st.Spec.Cloudflare.Speed.Brotli = spec.Bool(true)
	e.st.Spec.Cloudflare.Speed.AutoMinify = spec.Bool(true)
	changes := e.run(provider.Options{})
	notes := map[string]string{}
	for _, c := range changes {
		if c.Address.Kind == KindZoneSetting && (c.Address.Name == "brotli" || c.Address.Name == "minify") {
			if c.Action != plan.NoOp {
				t.Errorf("%s: action %s, want no-op", c.Address.Name, c.Action)
			}
			notes[c.Address.Name] = strings.Join(c.Notes, " ")
		}
	}
	if !strings.Contains(notes["brotli"], "retired") || !strings.Contains(notes["minify"], "retired") {
		t.Errorf("notes = %v", notes)
	}
	if n := e.emu.CallsMatching("", "/settings/brotli") + e.emu.CallsMatching("", "/settings/minify"); n != 0 {
		t.Errorf("%d calls to retired settings", n)
	}
}

// TestHostnameTakenAfterThePlan: a record made by hand between plan and
// apply makes the create fail once, naming the record nekoctl does not own,
// without blind retries.
func TestHostnameTakenAfterThePlan(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	p, changes, out := e.mustPlan(provider.Options{})
	e.seed("/zones/"+e.emu.ZoneID(testZone)+"/dns_records", map[string]any{"name": "www.api", "type": "A", "content": "198.51.100.1", "proxied": true})
	err := e.apply(p, changes, out)
	if err == nil || !strings.Contains(err.Error(), "www.api.nekodefense.example is taken by a DNS record nekoctl does not own") || !strings.Contains(err.Error(), "81053") {
		t.Errorf("err = %v", err)
	}
	if n := e.emu.CallsMatching("POST", "/dns_records"); n != 1 {
		t.Errorf("POST dns_records = %d, want 1 (no blind retries)", n)
	}
}

// TestReadRounds: a plan's reads go out in two rounds without a remembered
// zone id (the zone lookup with the account's monitors and pools, then every
// read under the zone at once) and in one with it (the zone read by id among
// the others). A remembered id that names another zone costs its round, is
// dropped with what it read, and is replaced by the zone's own. Each read
// takes 100 ms at the emulator, so the reads of a round are in flight
// together: the peak in flight tells the rounds apart.
func TestReadRounds(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.emu.SetFaults(cfemu.Faults{Latency: 100 * time.Millisecond})
	cache := t.TempDir()
	zid := e.emu.ZoneID(testZone)
	byName := "GET /client/v4/zones"
	byID := "GET /client/v4/zones/" + zid
	plan := func(t *testing.T, calls, inFlight int, zoneReads map[string]int) {
		t.Helper()
		e.emu.ResetCalls()
		e.cacheDir = cache
		defer func() { e.cacheDir = "" }()
		if _, changes, _ := e.mustPlan(provider.Options{}); len(pending(changes)) != 0 {
			t.Fatalf("plan of a populated zone is not empty: %v", pending(changes))
		}
		if got := e.emu.TotalCalls(); got != calls {
			t.Errorf("calls = %d, want %d", got, calls)
		}
		if got := e.emu.MaxInFlight(); got != inFlight {
			t.Errorf("at most %d reads were in flight together, want %d", got, inFlight)
		}
		got := e.emu.Calls()
		for k, n := range zoneReads {
			if got[k] != n {
				t.Errorf("%s: %d calls, want %d", k, got[k], n)
			}
		}
	}
	t.Run("no id remembered", func(t *testing.T) {
		plan(t, PlanCalls, PlanCalls-3, map[string]int{byName: 1, byID: 0})
	})
	t.Run("id remembered", func(t *testing.T) {
		plan(t, PlanCalls, PlanCalls, map[string]int{byName: 0, byID: 1})
	})
	t.Run("id of another zone", func(t *testing.T) {
		other := "other.example"
		e.emu.AddZone(other, cfemu.Pro)
		files, _ := filepath.Glob(filepath.Join(cache, "zones", "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %v, want one", files)
		}
		if err := os.WriteFile(files[0], []byte(`{"id":"`+e.emu.ZoneID(other)+`"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		plan(t, 2*PlanCalls, PlanCalls, map[string]int{byName: 1, byID: 0, "GET /client/v4/zones/" + e.emu.ZoneID(other): 1})
		plan(t, PlanCalls, PlanCalls, map[string]int{byName: 0, byID: 1})
	})
}

func TestNewIngressAddressUpdatesOnlyThatPool(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	e.st.Spec.Regions[1].IngressAddress = "lb-eu.example.net"
	changes := e.run(provider.Options{})
	want := []string{"update cloudflare[account/" + cfemu.DefaultAccount + `].pool["eu-west"]`}
	if diff := cmp.Diff(want, pending(changes)); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	for _, p := range e.emu.Pools() {
		if strings.HasSuffix(p.Name, "_eu-west") && p.Origins[0].Address != "lb-eu.example.net" {
			t.Errorf("eu-west origin = %s", p.Origins[0].Address)
		}
	}
}

func TestSteeringChangeUpdatesTheBalancerInPlace(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	id := e.emu.LoadBalancers(testZone)[0].ID
	e.st.Spec.Cloudflare.LoadBalancer.Steering = "dynamic_latency"
	changes := e.run(provider.Options{})
	if got := pending(changes); len(got) != 1 || !strings.HasPrefix(got[0], "update ") {
		t.Errorf("changes = %v", got)
	}
	lb := e.emu.LoadBalancers(testZone)[0]
	if lb.ID != id || lb.SteeringPolicy != "dynamic_latency" {
		t.Errorf("load balancer = %+v", lb)
	}
}

func TestDownWithLostDeleteResponses(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	for _, frag := range []string{"/dns_records/", "/pools/", "/monitors/", "/load_balancers/", "/certificates/"} {
		e.emu.LoseResponses("DELETE", frag, 1)
	}
	e.run(provider.Options{Destroy: true})
	if n := len(e.emu.Pools()) + len(e.emu.Monitors()) + len(e.emu.LoadBalancers(testZone)) + len(e.emu.Records(testZone)) + e.emu.CertificateCount(); n != 0 {
		t.Errorf("%d objects left after down", n)
	}
}

func TestLoadBalancerDisabledServesAPIFromThePrimary(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.st.Spec.Cloudflare.LoadBalancer.Enabled = spec.Bool(false)
	e.run(provider.Options{})
	recs := map[string]string{}
	for _, r := range e.emu.Records(testZone) {
		recs[r.Name] = r.Type + " " + r.Content
	}
	want := map[string]string{"api." + testZone: "A 203.0.113.10", "www.api." + testZone: "CNAME api." + testZone}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if n := len(e.emu.Pools()) + len(e.emu.LoadBalancers(testZone)); n != 0 {
		t.Errorf("%d load-balancing objects with load balancing off", n)
	}
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("second plan: %v", got)
	}
}

func TestAddressKnownOnlyAtApplyTime(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.st.Spec.Cloudflare.LoadBalancer.Enabled = spec.Bool(false)
	p := e.provider()
	ctx := context.Background()
	out := provider.NewOutputs() // Kubernetes has not reported any address yet
	live, err := p.Read(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	desired, _ := p.Desired(ctx, out)
	changes, err := p.Diff(ctx, desired, live, provider.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.Address.Kind == KindDNSRecord && c.Address.Name == "api."+testZone {
			if _, ok := c.After["content"].(plan.Unknown); !ok {
				t.Errorf("api record content = %v, want unknown", c.After["content"])
			}
		}
	}
	// The region's ingress comes up (a hostname, as on AWS) before the record is applied.
	out.Set("kubernetes/us-east/ingress_address", "k8s-gw-123.elb.us-east-1.amazonaws.com")
	if err := e.apply(p, changes, out); err != nil {
		t.Fatal(err)
	}
	for _, r := range e.emu.Records(testZone) {
		if r.Name == "api."+testZone && (r.Type != "CNAME" || r.Content != "k8s-gw-123.elb.us-east-1.amazonaws.com") {
			t.Errorf("api record = %s %s", r.Type, r.Content)
		}
	}
}

// TestSSLModeIsPinnedAndOriginPullsOn: a zone in automatic SSL mode (where
// the service refuses a fixed mode) is switched to custom before the mode
// is set, and Authenticated Origin Pulls are turned on after it.
func TestSSLModeIsPinnedAndOriginPullsOn(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	for id, want := range map[string]any{"ssl_automatic_mode": "custom", "ssl": "strict", "tls_client_auth": "on"} {
		if got := e.emu.Setting(testZone, id); got != want {
			t.Errorf("%s = %v, want %v", id, got, want)
		}
	}
	if got := pending(e.run(provider.Options{})); len(got) != 0 {
		t.Errorf("second plan: %v", got)
	}
	e.st.Spec.Cloudflare.SSL.AuthenticatedOriginPulls = spec.Bool(false)
	e.run(provider.Options{})
	if got := e.emu.Setting(testZone, "tls_client_auth"); got != "off" {
		t.Errorf("tls_client_auth = %v after turning it off in the spec", got)
	}
}

// TestLoadBalancingWithoutSubscription: the service refuses load-balancing
// objects on an account without the add-on; the error says what to do.
func TestLoadBalancingWithoutSubscription(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.emu.SetLoadBalancing(cfemu.DefaultAccount, false)
	p, changes, out := e.mustPlan(provider.Options{})
	err := e.apply(p, changes, out)
	if err == nil || !strings.Contains(err.Error(), "needs the Load Balancing add-on") || !strings.Contains(err.Error(), "loadBalancer.enabled: false") {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.emu.Monitors()); n != 0 {
		t.Errorf("monitors = %d without the subscription", n)
	}
}

package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

func TestUpFromEmptyThenNoChanges(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	changes := e.run(provider.Options{})

	wantCreates := []string{
		"create cloudflare[account/" + cfemu.DefaultAccount + "].monitor[\"health\"]",
		"create cloudflare[account/" + cfemu.DefaultAccount + "].pool[\"asia-pacific\"]",
		"create cloudflare[account/" + cfemu.DefaultAccount + "].pool[\"eu-west\"]",
		"create cloudflare[account/" + cfemu.DefaultAccount + "].pool[\"us-east\"]",
		"create cloudflare[account/" + cfemu.DefaultAccount + "].notification_policy[\"pool-health\"]",
		`create cloudflare[zone/nekodefense.example].dns_record["www.api.nekodefense.example"]`,
		`create cloudflare[zone/nekodefense.example].load_balancer["api.nekodefense.example"]`,
		`create cloudflare[zone/nekodefense.example].origin_certificate["api.nekodefense.example"]`,
		`create cloudflare[zone/nekodefense.example].ruleset_rule["nekoctl_neko_cache_graphql-bypass"]`,
		`create cloudflare[zone/nekodefense.example].ruleset_rule["nekoctl_neko_cache_static-assets"]`,
		`create cloudflare[zone/nekodefense.example].ruleset_rule["nekoctl_neko_ratelimit_graphql"]`,
		`create cloudflare[zone/nekodefense.example].ruleset_rule["nekoctl_neko_waf_cloudflare-managed"]`,
		`create cloudflare[zone/nekodefense.example].ruleset_rule["nekoctl_neko_waf_owasp"]`,
		// The emulator's defaults differ from the guide in these settings.
		`update cloudflare[zone/nekodefense.example].zone_setting["always_online"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["always_use_https"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["early_hints"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["min_tls_version"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["ssl"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["ssl_automatic_mode"]`,
		`update cloudflare[zone/nekodefense.example].zone_setting["tls_client_auth"]`,
	}
	if diff := cmp.Diff(sortedCopy(wantCreates), pending(changes)); diff != "" {
		t.Errorf("first plan (-want +got):\n%s", diff)
	}

	// The zone now serves the guide's stack.
	if got := e.emu.Setting(testZone, "cache_level"); got != "aggressive" {
		t.Errorf("cache_level = %v, want aggressive (the dashboard's Standard)", got)
	}
	if got := e.emu.Setting(testZone, "ssl"); got != "strict" {
		t.Errorf("ssl = %v, want strict", got)
	}
	recs := e.emu.Records(testZone)
	if len(recs) != 1 || recs[0].Name != "www.api."+testZone || recs[0].Type != "CNAME" || recs[0].Content != "api."+testZone || !recs[0].Proxied {
		t.Errorf("DNS records = %+v, want one proxied CNAME www.api -> api", recs)
	}
	lbs := e.emu.LoadBalancers(testZone)
	pools := e.emu.Pools()
	if len(lbs) != 1 || len(pools) != 3 || len(e.emu.Monitors()) != 1 {
		t.Fatalf("got %d load balancers, %d pools, %d monitors; want 1, 3, 1", len(lbs), len(pools), len(e.emu.Monitors()))
	}
	poolID := map[string]string{}
	for _, p := range pools {
		poolID[strings.TrimPrefix(p.Name, "nekoctl_neko_")] = p.ID
		if want := ingress[strings.TrimPrefix(p.Name, "nekoctl_neko_")]; p.Origins[0].Address != want {
			t.Errorf("pool %s origin = %s, want %s", p.Name, p.Origins[0].Address, want)
		}
	}
	lb := lbs[0]
	if lb.Name != "api."+testZone || lb.SteeringPolicy != "geo" || lb.FallbackPool != poolID["us-east"] {
		t.Errorf("load balancer = %+v", lb)
	}
	if diff := cmp.Diff([]string{poolID["us-east"], poolID["eu-west"], poolID["asia-pacific"]}, lb.DefaultPools); diff != "" {
		t.Errorf("default pools (-want +got):\n%s", diff)
	}
	if got := lb.RegionPools["WEU"]; len(got) == 0 || got[0] != poolID["eu-west"] {
		t.Errorf("WEU pools = %v, want eu-west first", got)
	}
	if got := lb.RegionPools["NEAS"]; len(got) == 0 || got[0] != poolID["asia-pacific"] {
		t.Errorf("NEAS pools = %v, want asia-pacific first", got)
	}
	mon := e.emu.Monitors()[0]
	if mon.Path != "/health" || mon.Header["Host"][0] != "api."+testZone || mon.Type != "https" {
		t.Errorf("monitor = %+v", mon)
	}
	rl := e.emu.PhaseRules(testZone, "http_ratelimit")
	if len(rl) != 1 || rl[0].Ratelimit.Period != 60 || rl[0].Ratelimit.MitigationTimeout != 600 || rl[0].Ratelimit.RequestsPerPeriod != 100 {
		t.Errorf("rate limit rules = %+v", rl)
	}

	// Certificate and key were published as sensitive outputs.
	key, ok := e.secret[provider.OutOriginKey].(plan.Sensitive)
	if !ok || !strings.Contains(key.Reveal(), "PRIVATE KEY") {
		t.Fatalf("origin key output = %T, want a plan.Sensitive PEM", e.secret[provider.OutOriginKey])
	}
	cert, _ := e.secret[provider.OutOriginCert].(plan.Sensitive)
	if !keyMatches(key.Reveal(), cert.Reveal()) {
		t.Errorf("published certificate does not match the published key")
	}
	if e.emu.CertificateCount() != 1 {
		t.Errorf("certificates = %d, want 1", e.emu.CertificateCount())
	}

	// The next plan is empty.
	_, next, _ := e.mustPlan(provider.Options{})
	if got := pending(next); len(got) != 0 {
		t.Errorf("second plan is not empty:\n%s", strings.Join(got, "\n"))
		for _, c := range next {
			if c.Action != plan.NoOp {
				t.Logf("%s fields: %+v", c.Address, c.Fields)
			}
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sortStrings(out)
	return out
}

func TestPlanNeverShowsSecrets(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	// A plan that renews the certificate still carries no key material.
	e.secret = map[string]any{}
	_, changes, out := e.mustPlan(provider.Options{})
	b, err := json.Marshal(changes)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "PRIVATE KEY") || strings.Contains(string(b), e.emu.Token()) {
		t.Errorf("plan JSON leaks a secret: %s", b)
	}
	_ = out
	if fmt.Sprint(changes) == "" {
		t.Fatal("empty")
	}
}

func TestOfflineDesiredNeedsNoClient(t *testing.T) {
	p := New(globalStack(), nil, Config{})
	res, err := p.Desired(context.Background(), provider.NewOutputs())
	if err != nil {
		t.Fatal(err)
	}
	var pools int
	for _, r := range res {
		if r.Address.Kind == KindPool {
			pools++
			origin := r.Doc["origins"].([]any)[0].(plan.Document)
			if _, ok := origin["address"].(plan.Unknown); !ok {
				t.Errorf("pool %s address = %v, want unknown until Kubernetes reports it", r.Address.Name, origin["address"])
			}
		}
	}
	if pools != 3 {
		t.Errorf("pools = %d, want 3", pools)
	}
	if _, err := p.Read(context.Background(), nil); err == nil {
		t.Error("Read without a client succeeded")
	}
}

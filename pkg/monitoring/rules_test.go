package monitoring

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

var region = Target{Namespace: "neko-defense", App: "neko-api", Redis: "neko-redis", Region: "eu-west", Stack: "neko-defense"}

// Every expression is valid PromQL for Prometheus's own parser, and every
// rule carries a severity, a summary and a runbook.
func TestRulesParse(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	seen := map[string]bool{}
	for _, r := range Rules(region) {
		if _, err := p.ParseExpr(r.Expr); err != nil {
			t.Errorf("%s: %v\n%s", r.Alert, err, r.Expr)
		}
		if seen[r.Alert] {
			t.Errorf("%s: defined twice", r.Alert)
		}
		seen[r.Alert] = true
		if r.Severity != Critical && r.Severity != Warning || r.Summary == "" || len(r.Runbook) < 40 {
			t.Errorf("%s: severity %q, summary %q, runbook %q", r.Alert, r.Severity, r.Summary, r.Runbook)
		}
		if !strings.Contains(r.Expr, `namespace="neko-defense"`) {
			t.Errorf("%s: does not select the stack's namespace: %s", r.Alert, r.Expr)
		}
	}
	if len(seen) != 9 {
		t.Errorf("%d rules, want 9", len(seen))
	}
}

// series is a promqltest load block at a 1m interval in the test namespace.
func loadSeries(lines ...string) string {
	return "load 1m\n" + strings.Join(lines, "\n") + "\n"
}

// Each rule fires on series that break it, only after its `for`, and stays
// quiet on series that do not: evaluated minute by minute like Prometheus's
// rule manager (promtool test rules semantics).
func TestRulesFireAndStayQuiet(t *testing.T) {
	ns := `namespace="neko-defense"`
	req := func(code, v string) string {
		return `neko_api_http_requests_total{` + ns + `,route="/graphql",method="POST",code="` + code + `"} ` + v
	}
	bucket := func(le, v string) string {
		return `neko_api_http_request_duration_seconds_bucket{` + ns + `,route="/graphql",le="` + le + `"} ` + v
	}
	cache := func(result, v string) string {
		return `neko_api_cache_lookups_total{` + ns + `,result="` + result + `"} ` + v
	}
	hpa := `{` + ns + `,horizontalpodautoscaler="neko-api"} `
	for _, tc := range []struct {
		alert        string
		fires, quiet string
		// until is how long the series are evaluated; notBefore is a time
		// at which the firing case must still be pending (its `for`).
		until, notBefore time.Duration
	}{
		{"NekoAPIHigh5xxRatio", loadSeries(req("200", "0+100x40"), req("503", "0+10x40")),
			loadSeries(req("200", "0+100x40"), req("503", "0+1x40")), 20 * time.Minute, 4 * time.Minute},
		{"NekoAPIHigh429Ratio", loadSeries(req("200", "0+100x40"), req("429", "0+20x40")),
			loadSeries(req("200", "0+100x40"), req("429", "0+5x40")), 20 * time.Minute, 9 * time.Minute},
		{"NekoAPIHighP99Latency",
			loadSeries(bucket("0.5", "0+90x40"), bucket("1", "0+90x40"), bucket("2.5", "0+100x40"), bucket("+Inf", "0+100x40")),
			loadSeries(bucket("0.5", "0+100x40"), bucket("1", "0+100x40"), bucket("2.5", "0+100x40"), bucket("+Inf", "0+100x40")),
			20 * time.Minute, 9 * time.Minute},
		{"NekoAPICircuitBreakerOpen",
			loadSeries(`neko_api_circuit_breaker_state{`+ns+`,name="mongodb"} 2x40`, `neko_api_circuit_breaker_state{`+ns+`,name="redis"} 0x40`),
			loadSeries(`neko_api_circuit_breaker_state{`+ns+`,name="mongodb"} 1x40`, `neko_api_circuit_breaker_state{`+ns+`,name="redis"} 0x40`),
			5 * time.Minute, 0},
		{"NekoAPIHPAAtMaximum",
			loadSeries(`kube_horizontalpodautoscaler_status_current_replicas`+hpa+`10x40`, `kube_horizontalpodautoscaler_spec_max_replicas`+hpa+`10x40`),
			loadSeries(`kube_horizontalpodautoscaler_status_current_replicas`+hpa+`9x40`, `kube_horizontalpodautoscaler_spec_max_replicas`+hpa+`10x40`),
			20 * time.Minute, 14 * time.Minute},
		{"NekoAPIPodsUnavailable",
			loadSeries(`kube_deployment_status_replicas_unavailable{` + ns + `,deployment="neko-api"} 1x40`),
			loadSeries(`kube_deployment_status_replicas_unavailable{` + ns + `,deployment="neko-api"} 1 1 1 1 1 0x35`),
			20 * time.Minute, 9 * time.Minute},
		{"NekoRedisDown",
			loadSeries(`kube_statefulset_status_replicas_ready{` + ns + `,statefulset="neko-redis"} 0x40`),
			loadSeries(`kube_statefulset_status_replicas_ready{` + ns + `,statefulset="neko-redis"} 1x40`),
			10 * time.Minute, time.Minute},
		{"NekoAPILowCacheHitRatio", loadSeries(cache("hit", "0+10x60"), cache("miss", "0+30x60")),
			// Too little traffic to judge: 4 lookups a minute.
			loadSeries(cache("hit", "0+1x60"), cache("miss", "0+3x60")), 55 * time.Minute, 29 * time.Minute},
		{"NekoOriginCertificateExpiring",
			loadSeries(`neko_api_origin_certificate_expiry_timestamp_seconds{` + ns + `} 864000x120`),
			loadSeries(`neko_api_origin_certificate_expiry_timestamp_seconds{` + ns + `} 2592000x120`),
			90 * time.Minute, 59 * time.Minute},
	} {
		t.Run(tc.alert, func(t *testing.T) {
			r := ruleNamed(t, tc.alert)
			if at := firingAt(t, r, tc.fires, tc.until); at < 0 {
				t.Errorf("does not fire within %s", tc.until)
			} else if at <= tc.notBefore {
				t.Errorf("fires at %s, before its for (%s)", time.Duration(at), r.For)
			}
			if at := firingAt(t, r, tc.quiet, tc.until); at >= 0 {
				t.Errorf("fires at %s on series that should not fire it", time.Duration(at))
			}
		})
	}
}

// A second high-traffic series keeps the cache rule quiet when the hit
// ratio is healthy.
func TestCacheRuleQuietWhenHitsDominate(t *testing.T) {
	r := ruleNamed(t, "NekoAPILowCacheHitRatio")
	s := loadSeries(`neko_api_cache_lookups_total{namespace="neko-defense",result="hit"} 0+90x60`,
		`neko_api_cache_lookups_total{namespace="neko-defense",result="miss"} 0+10x60`)
	if at := firingAt(t, r, s, 55*time.Minute); at >= 0 {
		t.Errorf("fires at %s with a 90%% hit ratio", time.Duration(at))
	}
}

// Alerts carry the region and severity labels and expand their templates.
func TestAlertLabelsAndAnnotations(t *testing.T) {
	r := ruleNamed(t, "NekoAPICircuitBreakerOpen")
	ar := alertingRule(t, r)
	st := promqltest.LoadedStorage(t, loadSeries(`neko_api_circuit_breaker_state{namespace="neko-defense",name="mongodb"} 2x10`))
	eng := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for m := 0; m <= 3; m++ {
		if _, err := ar.Eval(context.Background(), 0, time.Unix(0, 0).Add(time.Duration(m)*time.Minute),
			rules.EngineQueryFunc(eng, st), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	alerts := ar.ActiveAlerts()
	if len(alerts) != 1 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	if a.Labels.Get("region") != "eu-west" || a.Labels.Get("severity") != Critical || a.Labels.Get("name") != "mongodb" {
		t.Errorf("labels %s", a.Labels)
	}
	if s := a.Annotations.Get("summary"); !strings.Contains(s, "for mongodb is open") {
		t.Errorf("summary %q", s)
	}
	if !strings.Contains(a.Annotations.Get("runbook"), "Atlas access list") {
		t.Errorf("runbook %q", a.Annotations.Get("runbook"))
	}
}

func ruleNamed(t *testing.T, name string) Rule {
	t.Helper()
	for _, r := range Rules(region) {
		if r.Alert == name {
			return r
		}
	}
	t.Fatalf("no rule %s", name)
	return Rule{}
}

func alertingRule(t *testing.T, r Rule) *rules.AlertingRule {
	t.Helper()
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
	if err != nil {
		t.Fatal(err)
	}
	return rules.NewAlertingRule(r.Alert, expr, r.For, 0, labels.FromMap(r.Labels(region)), labels.FromMap(r.Annotations()),
		labels.EmptyLabels(), "", false, nil)
}

// firingAt evaluates the rule every minute over the loaded series and
// returns when it first fires, or -1.
func firingAt(t *testing.T, r Rule, load string, until time.Duration) time.Duration {
	t.Helper()
	ar := alertingRule(t, r)
	st := promqltest.LoadedStorage(t, load)
	eng := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	for at := time.Duration(0); at <= until; at += time.Minute {
		if _, err := ar.Eval(context.Background(), 0, time.Unix(0, 0).Add(at), rules.EngineQueryFunc(eng, st), nil, 0); err != nil {
			t.Fatalf("eval at %s: %v", at, err)
		}
		for _, a := range ar.ActiveAlerts() {
			if a.State == rules.StateFiring {
				return at
			}
		}
	}
	return -1
}

package monitoring

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/neko-defense/nekoctl/pkg/workload/metrics"
)

type panelJSON struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
}

// The dashboard's JSON is Grafana's dashboard model: it unmarshals strictly
// into the SDK's type (unknown fields refused) and passes its validation;
// panels lie on the 24-column grid without overlapping, every query is
// PromQL that Prometheus parses, and the workload's metrics it reads exist.
func TestDashboardIsAValidGrafanaDashboard(t *testing.T) {
	raw, err := Dashboard(region)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard.Dashboard
	if err := noBuildErrors(d.UnmarshalJSONStrict(raw)); err != nil {
		t.Fatalf("not Grafana's dashboard model: %v", err)
	}
	if err := noBuildErrors(d.Validate()); err != nil {
		t.Fatalf("invalid: %v", err)
	}
	if d.Uid == nil || *d.Uid != DashboardUID || d.Title == nil || *d.Title != "Neko Defense API" {
		t.Errorf("uid %v, title %v", d.Uid, d.Title)
	}

	var doc struct {
		Panels     []panelJSON `json:"panels"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, v := range doc.Templating.List {
		vars[v.Name] = v.Type
	}
	if vars["datasource"] != "datasource" || vars["namespace"] != "constant" || vars["region"] != "constant" {
		t.Errorf("variables %v", vars)
	}

	p := parser.NewParser(parser.Options{})
	known := workloadMetrics(t)
	used := map[string]bool{}
	ids := map[int]bool{}
	var titles []string
	var rows int
	type cell struct{ x, y int }
	taken := map[cell]string{}
	for _, pn := range doc.Panels {
		if ids[pn.ID] {
			t.Errorf("panel id %d used twice", pn.ID)
		}
		ids[pn.ID] = true
		g := pn.GridPos
		if g.W <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("%s: off the grid %+v", pn.Title, g)
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if o, ok := taken[cell{x, y}]; ok {
					t.Errorf("%s overlaps %s", pn.Title, o)
				}
				taken[cell{x, y}] = pn.Title
			}
		}
		if pn.Type == "row" {
			rows++
			if !strings.HasPrefix(pn.Title, "$region: ") {
				t.Errorf("row %q does not name the region", pn.Title)
			}
			continue
		}
		titles = append(titles, pn.Title)
		if len(pn.Targets) == 0 {
			t.Errorf("%s: no query", pn.Title)
		}
		for _, tg := range pn.Targets {
			expr := strings.NewReplacer("$__rate_interval", "5m", "$namespace", "neko-defense").Replace(tg.Expr)
			if _, err := p.ParseExpr(expr); err != nil {
				t.Errorf("%s: %v\n%s", pn.Title, err, tg.Expr)
			}
			if !strings.Contains(tg.Expr, `namespace="$namespace"`) {
				t.Errorf("%s: does not select $namespace: %s", pn.Title, tg.Expr)
			}
			for _, m := range regexp.MustCompile(`neko_api_[a-z_]+`).FindAllString(tg.Expr, -1) {
				used[m] = true
				if !known[strings.TrimSuffix(m, "_bucket")] {
					t.Errorf("%s: %s is not a metric of the workload", pn.Title, m)
				}
			}
		}
	}
	if rows != 3 {
		t.Errorf("%d rows, want 3", rows)
	}
	want := []string{"Request rate by route", "Error ratio", "Latency", "CPU per pod", "Memory per pod",
		"Pods: current, desired, HPA maximum", "Cache hit ratio", "Circuit breaker state (0 closed, 1 half-open, 2 open)", "Redis up (ready pods)"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("panels %q", titles)
	}
	for _, m := range []string{"neko_api_http_requests_total", "neko_api_http_request_duration_seconds_bucket", "neko_api_cache_lookups_total", "neko_api_circuit_breaker_state"} {
		if !used[m] {
			t.Errorf("%s is not shown", m)
		}
	}
	for _, want := range []string{`code=~"4..",code!="429"`, `code="429"`, `code=~"5.."`, "histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,",
		"kube_horizontalpodautoscaler_spec_max_replicas", "kube_horizontalpodautoscaler_status_desired_replicas", "container_memory_working_set_bytes"} {
		if !strings.Contains(string(raw), strings.ReplaceAll(want, `"`, `\"`)) {
			t.Errorf("no query with %s", want)
		}
	}
}

// workloadMetrics are the names the API's registry exposes.
func workloadMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := metrics.New()
	m.Requests.WithLabelValues("/graphql", "POST", "200").Inc()
	m.Duration.WithLabelValues("/graphql").Observe(0.1)
	m.Cache.WithLabelValues("hit").Inc()
	m.Breaker.WithLabelValues("mongodb").Set(0)
	m.RateLimited.WithLabelValues("redis").Inc()
	m.GraphQLErrors.WithLabelValues("X").Inc()
	fams, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, f := range fams {
		out[f.GetName()] = true
	}
	return out
}

// noBuildErrors turns the SDK's empty error list (a typed nil) into nil.
func noBuildErrors(err error) error {
	if be, ok := err.(cog.BuildErrors); ok && len(be) == 0 {
		return nil
	}
	return err
}

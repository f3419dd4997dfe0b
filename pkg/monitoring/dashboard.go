package monitoring

import (
	"encoding/json"
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// DashboardUID is the dashboard's uid in every region's Grafana.
const DashboardUID = "neko-api"

// container is the API container's name in the Deployment.
const container = "api"

// Dashboard is the region's Grafana dashboard as JSON, built with Grafana's
// foundation SDK. Every query selects $namespace; $datasource picks the
// Prometheus (one per region when one Grafana watches several), and the
// rows carry the region's name.
func Dashboard(t Target) ([]byte, error) {
	sel := `namespace="$namespace"`
	reqs := func(extra string) string {
		return fmt.Sprintf(`sum(rate(neko_api_http_requests_total{%s%s}[$__rate_interval]))`, sel, extra)
	}
	ratio := func(code string) string { return reqs(","+code) + " / " + reqs("") }
	quantile := func(q string) string {
		return fmt.Sprintf(`histogram_quantile(%s, sum by (le) (rate(neko_api_http_request_duration_seconds_bucket{%s}[$__rate_interval])))`, q, sel)
	}
	pods := fmt.Sprintf(`%s,pod=~"%s-.*",container=%q`, sel, t.App, container)
	hpa := fmt.Sprintf(`%s,horizontalpodautoscaler=%q`, sel, t.App)
	lookups := func(result string) string {
		return fmt.Sprintf(`sum(rate(neko_api_cache_lookups_total{%s,result=~%q}[$__rate_interval]))`, sel, result)
	}

	b := dashboard.NewDashboardBuilder("Neko Defense API").
		Uid(DashboardUID).
		Tags([]string{"nekoctl", "neko-api"}).
		Refresh("30s").
		Time("now-6h", "now").
		Timezone("browser").
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").Label("Prometheus").Type("prometheus")).
		WithVariable(dashboard.NewConstantVariableBuilder("namespace").Value(dashboard.StringOrMap{String: cog.ToPtr(t.Namespace)})).
		WithVariable(dashboard.NewConstantVariableBuilder("region").Value(dashboard.StringOrMap{String: cog.ToPtr(t.Region)}))

	b.WithRow(dashboard.NewRowBuilder("$region: traffic and errors")).
		WithPanel(series("Request rate by route", "reqps",
			target(fmt.Sprintf(`sum by (route) (rate(neko_api_http_requests_total{%s}[$__rate_interval]))`, sel), "{{route}}"))).
		WithPanel(series("Error ratio", "percentunit",
			target(ratio(`code=~"4..",code!="429"`), "4xx"),
			target(ratio(`code="429"`), "429 (rate limited)"),
			target(ratio(`code=~"5.."`), "5xx"))).
		WithPanel(series("Latency", "s", target(quantile("0.5"), "p50"), target(quantile("0.95"), "p95"), target(quantile("0.99"), "p99")))

	b.WithRow(dashboard.NewRowBuilder("$region: saturation")).
		WithPanel(series("CPU per pod", "cores",
			target(fmt.Sprintf(`sum by (pod) (rate(container_cpu_usage_seconds_total{%s}[$__rate_interval]))`, pods), "{{pod}}"))).
		WithPanel(series("Memory per pod", "bytes",
			target(fmt.Sprintf(`sum by (pod) (container_memory_working_set_bytes{%s})`, pods), "{{pod}}"))).
		WithPanel(series("Pods: current, desired, HPA maximum", "short",
			target(fmt.Sprintf(`kube_horizontalpodautoscaler_status_current_replicas{%s}`, hpa), "current"),
			target(fmt.Sprintf(`kube_horizontalpodautoscaler_status_desired_replicas{%s}`, hpa), "desired"),
			target(fmt.Sprintf(`kube_horizontalpodautoscaler_spec_max_replicas{%s}`, hpa), "HPA maximum"),
			target(fmt.Sprintf(`kube_deployment_status_replicas_available{%s,deployment=%q}`, sel, t.App), "available")))

	b.WithRow(dashboard.NewRowBuilder("$region: dependencies")).
		WithPanel(series("Cache hit ratio", "percentunit",
			target(lookups("hit")+" / "+lookups("hit|miss"), "hit ratio"))).
		WithPanel(status("Circuit breaker state (0 closed, 1 half-open, 2 open)", 2,
			target(fmt.Sprintf(`max by (name) (neko_api_circuit_breaker_state{%s})`, sel), "{{name}}"))).
		WithPanel(status("Redis up (ready pods)", 0,
			target(fmt.Sprintf(`sum(kube_statefulset_status_replicas_ready{%s,statefulset=%q})`, sel, t.Redis), "redis")))

	d, err := b.Build()
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	// Grafana keys panel state (links, edits) by id: number them in order.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		if p.RowPanel != nil {
			p.RowPanel.Id = id
		} else if p.Panel != nil {
			p.Panel.Id = &id
		}
	}
	return json.MarshalIndent(d, "", "  ")
}

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("$datasource")}
}

func target(expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Expr(expr).LegendFormat(legend).Datasource(datasource())
}

func series(title, unit string, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().Title(title).Unit(unit).Datasource(datasource()).Height(8).Span(8)
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

// status is a stat panel that turns red at bad (or, with bad 0, below 1).
func status(title string, bad float64, targets ...*prometheus.DataqueryBuilder) *stat.PanelBuilder {
	steps := []dashboard.Threshold{{Color: "green"}, {Value: cog.ToPtr(1.0), Color: "orange"}, {Value: cog.ToPtr(bad), Color: "red"}}
	if bad == 0 {
		steps = []dashboard.Threshold{{Color: "red"}, {Value: cog.ToPtr(1.0), Color: "green"}}
	}
	p := stat.NewPanelBuilder().Title(title).Datasource(datasource()).Height(8).Span(8).
		Thresholds(dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

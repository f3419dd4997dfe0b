// Package monitoring defines, as Go values, what nekoctl deploys for
// watching the API in every region: the Prometheus alert rules, the Grafana
// dashboard and the Alertmanager routing. pkg/providers/kubernetes renders
// them into the PrometheusRule, the dashboard ConfigMap and the
// AlertmanagerConfig; the names of the metrics are the workload's
// (pkg/workload/metrics) and kube-state-metrics'.
package monitoring

import (
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Target names what the rules and the dashboard select in one region.
type Target struct {
	// Namespace, App (the API Deployment and HPA) and Redis (its StatefulSet).
	Namespace, App, Redis string
	// Region labels every alert.
	Region string
	// Stack labels every alert (StackLabel): the stack's Alertmanager
	// routing selects its alerts by it.
	Stack string
}

// Rule is one Prometheus alerting rule.
type Rule struct {
	Alert    string
	Expr     string
	For      time.Duration
	Severity string
	// Summary says what is wrong; Runbook says what to do.
	Summary, Runbook string
}

// Severities of the rules, matched by the receivers' routes.
const (
	Critical = "critical"
	Warning  = "warning"
)

// Thresholds of the rules.
const (
	Max5xxRatio       = 0.05
	Max429Ratio       = 0.10
	MaxP99Seconds     = 1.0
	MinCacheHitRatio  = 0.5
	CertWarnDays      = 14
	hpaAtMaxFor       = 15 * time.Minute
	cacheMinLookupsPS = 0.1
)

// OriginCertExpiryMetric is the gauge the API exports with the notAfter time
// (Unix seconds) of the origin certificate it is given (ORIGIN_CERT_FILE).
const OriginCertExpiryMetric = "neko_api_origin_certificate_expiry_timestamp_seconds"

// Rules returns the alert rules of one region, in a fixed order.
func Rules(t Target) []Rule {
	ns := fmt.Sprintf(`namespace=%q`, t.Namespace)
	reqs := func(extra string) string {
		return fmt.Sprintf(`sum(rate(neko_api_http_requests_total{%s%s}[5m]))`, ns, extra)
	}
	ratio := func(code string) string {
		return fmt.Sprintf(`%s / %s`, reqs(","+code), reqs(""))
	}
	hpa := fmt.Sprintf(`%s,horizontalpodautoscaler=%q`, ns, t.App)
	deploy := fmt.Sprintf(`%s,deployment=%q`, ns, t.App)
	lookups := func(result string) string {
		return fmt.Sprintf(`sum(rate(neko_api_cache_lookups_total{%s,result=~%q}[15m]))`, ns, result)
	}
	return []Rule{{
		Alert: "NekoAPIHigh5xxRatio", Severity: Critical, For: 5 * time.Minute,
		Expr:    fmt.Sprintf(`%s > %g`, ratio(`code=~"5.."`), Max5xxRatio),
		Summary: fmt.Sprintf("More than %g%% of API requests fail with 5xx in %s.", Max5xxRatio*100, t.Region),
		Runbook: "Check the circuit breaker panels: an open mongodb breaker means Atlas is unreachable from the region (see the Atlas alerts and the access list); an open redis breaker means the region's Redis is down. Otherwise read the API logs (kubectl logs -n " + t.Namespace + " deploy/" + t.App + ") and, if a rollout just happened, roll it back. If the region cannot recover, disable its origin in the Cloudflare load balancer so traffic goes to the other regions.",
	}, {
		Alert: "NekoAPIHigh429Ratio", Severity: Warning, For: 10 * time.Minute,
		Expr:    fmt.Sprintf(`%s > %g`, ratio(`code="429"`), Max429Ratio),
		Summary: fmt.Sprintf("More than %g%% of API requests are rate limited (429) in %s.", Max429Ratio*100, t.Region),
		Runbook: "Look at neko_api_rate_limit_rejections_total by backend: 'local' means Redis is unavailable and each pod limits alone. Otherwise find the clients hitting the limit (Cloudflare Security Events, the rate-limiting rule) and decide between blocking an abusive client and raising spec.cloudflare.rateLimits for legitimate traffic.",
	}, {
		Alert: "NekoAPIHighP99Latency", Severity: Warning, For: 10 * time.Minute,
		Expr:    fmt.Sprintf(`histogram_quantile(0.99, sum by (le) (rate(neko_api_http_request_duration_seconds_bucket{%s}[5m]))) > %g`, ns, MaxP99Seconds),
		Summary: fmt.Sprintf("API p99 latency above %gs in %s.", MaxP99Seconds, t.Region),
		Runbook: "Compare the cache hit ratio and the CPU per pod panels: a falling hit ratio sends queries to MongoDB (check Atlas's replication lag and disk alerts), CPU at the limit with the HPA at its maximum needs a larger spec.regions[].replicas.max or resources.",
	}, {
		Alert: "NekoAPICircuitBreakerOpen", Severity: Critical, For: time.Minute,
		Expr:    fmt.Sprintf(`max by (name) (neko_api_circuit_breaker_state{%s}) == 2`, ns),
		Summary: "The API's circuit breaker for {{ $labels.name }} is open in " + t.Region + ".",
		Runbook: "The API stopped calling {{ $labels.name }} after repeated failures. mongodb: check the Atlas cluster's state and primary, and that the region's egress addresses are in the Atlas access list. redis: check the " + t.Redis + " StatefulSet (kubectl get pods -n " + t.Namespace + " -l app.kubernetes.io/name=" + t.Redis + ").",
	}, {
		Alert: "NekoAPIHPAAtMaximum", Severity: Warning, For: hpaAtMaxFor,
		Expr:    fmt.Sprintf(`kube_horizontalpodautoscaler_status_current_replicas{%s} >= kube_horizontalpodautoscaler_spec_max_replicas{%s}`, hpa, hpa),
		Summary: fmt.Sprintf("The API has run at its HPA maximum for %s in %s.", hpaAtMaxFor, t.Region),
		Runbook: "The region needs more capacity than it may use: raise spec.regions[].replicas.max (and check the cluster has nodes for it) and run nekoctl up, or shift traffic to other regions with spec.regions[].geoRegions.",
	}, {
		Alert: "NekoAPIPodsUnavailable", Severity: Critical, For: 10 * time.Minute,
		Expr:    fmt.Sprintf(`kube_deployment_status_replicas_unavailable{%s} > 0`, deploy),
		Summary: "API pods have been unavailable for 10 minutes in " + t.Region + ".",
		Runbook: "kubectl describe pods -n " + t.Namespace + " -l app.kubernetes.io/name=" + t.App + ": look for image pull errors (spec.workload.image), failing readiness (the /ready endpoint needs MongoDB), or pending pods (cluster capacity). nekoctl status shows the rollout.",
	}, {
		Alert: "NekoRedisDown", Severity: Critical, For: 2 * time.Minute,
		Expr:    fmt.Sprintf(`kube_statefulset_status_replicas_ready{%s,statefulset=%q} < 1`, ns, t.Redis),
		Summary: "Redis has no ready pod in " + t.Region + ": caching is off and rate limits are per pod.",
		Runbook: "kubectl describe pod -n " + t.Namespace + " " + t.Redis + "-0: check its volume and memory (spec.workload.redis.memory). The API keeps serving without it, slower and with local rate limits.",
	}, {
		Alert: "NekoAPILowCacheHitRatio", Severity: Warning, For: 30 * time.Minute,
		Expr: fmt.Sprintf(`(%s / %s < %g) and on() (%s > %g)`, lookups("hit"), lookups("hit|miss"), MinCacheHitRatio,
			lookups("hit|miss|bypass"), cacheMinLookupsPS),
		Summary: fmt.Sprintf("Fewer than %g%% of cacheable queries are answered from the cache in %s.", MinCacheHitRatio*100, t.Region),
		Runbook: "A rise of 'bypass' lookups means Redis is unreachable (see NekoRedisDown). Otherwise Redis evicts entries: check its memory use against spec.workload.redis.memory, or a client is sending many distinct queries.",
	}, {
		Alert: "NekoOriginCertificateExpiring", Severity: Warning, For: time.Hour,
		Expr:    fmt.Sprintf(`min(%s{%s}) - time() < %d * 86400`, OriginCertExpiryMetric, ns, CertWarnDays),
		Summary: fmt.Sprintf("The origin certificate served in %s expires in less than %d days.", t.Region, CertWarnDays),
		Runbook: "nekoctl up renews the Cloudflare Origin CA certificate within spec.cloudflare.originCertificate.renewBefore of its expiry and rolls it to every region: run it (nekoctl plan shows the replacement). An expired origin certificate makes Cloudflare answer 526.",
	}}
}

// Labels are the rule's labels: its severity, the region, the stack and
// the namespace (which an Alertmanager matching AlertmanagerConfigs on
// their namespace requires).
func (r Rule) Labels(t Target) map[string]string {
	return map[string]string{"severity": r.Severity, "region": t.Region, StackLabel: t.Stack, "namespace": t.Namespace}
}

// Annotations are the rule's summary and runbook (what to do).
func (r Rule) Annotations() map[string]string {
	return map[string]string{"summary": r.Summary, "runbook": r.Runbook}
}

// RuleGroups is the PrometheusRule's spec.groups: one group of the region's rules.
func RuleGroups(t Target) []any {
	var rs []any
	for _, r := range Rules(t) {
		rs = append(rs, map[string]any{
			"alert":       r.Alert,
			"expr":        r.Expr,
			"for":         model.Duration(r.For).String(),
			"labels":      r.Labels(t),
			"annotations": r.Annotations(),
		})
	}
	return []any{map[string]any{"name": t.App, "rules": rs}}
}

package kubernetes

import (
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Grafana's admin credentials: generated once per region into this Secret
// in the monitoring namespace and handed to the chart by name, so that the
// password is never in the plan, the release's values or any output.
const (
	grafanaAdminUserKey     = "admin-user"
	grafanaAdminPasswordKey = "admin-password"
)

func grafanaAdminSecret(st *spec.Stack) string { return st.Spec.Monitoring.Release + "-grafana-admin" }

// MonitoringValues are the values nekoctl installs kube-prometheus-stack
// with: Prometheus's retention, volume and resources from the spec, and
// Prometheus and Alertmanager selecting, in every namespace, exactly the
// objects that carry SelectorLabels (instead of the chart's default of its
// own release label only); Grafana's dashboard sidecar loads labelled
// ConfigMaps from every namespace. Only strings, booleans, lists and maps,
// so that the values read back from the release compare equal.
func MonitoringValues(st *spec.Stack) map[string]any {
	m := st.Spec.Monitoring
	labels := map[string]any{}
	for k, v := range SelectorLabels(st) {
		labels[k] = v
	}
	selector := func() map[string]any { return map[string]any{"matchLabels": copyMap(labels)} }
	resources := map[string]any{}
	for _, r := range []struct {
		name string
		list spec.ResourceList
	}{{"requests", m.Resources.Requests}, {"limits", m.Resources.Limits}} {
		q := map[string]any{}
		if r.list.CPU != "" {
			q["cpu"] = r.list.CPU
		}
		if r.list.Memory != "" {
			q["memory"] = r.list.Memory
		}
		if len(q) > 0 {
			resources[r.name] = q
		}
	}
	return map[string]any{
		"prometheus": map[string]any{"prometheusSpec": map[string]any{
			"retention": m.Retention,
			"resources": resources,
			"storageSpec": map[string]any{"volumeClaimTemplate": map[string]any{"spec": map[string]any{
				"accessModes": []any{"ReadWriteOnce"},
				"resources":   map[string]any{"requests": map[string]any{"storage": m.Storage}},
			}}},
			"serviceMonitorSelectorNilUsesHelmValues": false,
			"serviceMonitorSelector":                  selector(),
			"serviceMonitorNamespaceSelector":         map[string]any{},
			"ruleSelectorNilUsesHelmValues":           false,
			"ruleSelector":                            selector(),
			"ruleNamespaceSelector":                   map[string]any{},
		}},
		"alertmanager": map[string]any{"alertmanagerSpec": map[string]any{
			"alertmanagerConfigSelector":          selector(),
			"alertmanagerConfigNamespaceSelector": map[string]any{},
			// Route every alert through the stack's AlertmanagerConfig, not
			// only those from its own namespace.
			"alertmanagerConfigMatcherStrategy": map[string]any{"type": "None"},
		}},
		"grafana": map[string]any{
			"admin": map[string]any{"existingSecret": grafanaAdminSecret(st),
				"userKey": grafanaAdminUserKey, "passwordKey": grafanaAdminPasswordKey},
			"sidecar": map[string]any{"dashboards": map[string]any{"enabled": true,
				"label": spec.GrafanaDashboardLabel, "labelValue": spec.GrafanaDashboardLabelValue, "searchNamespace": "ALL"}},
		},
	}
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// releaseDoc is the plan document of the monitoring release: the chart,
// its exact version and the values (a change of either is an upgrade).
func releaseDoc(st *spec.Stack) plan.Document {
	c := st.Spec.Monitoring.Chart
	return plan.Document{"chart": c.Name, "version": c.Version, "values": MonitoringValues(st)}
}

package kubernetes

import (
	"maps"
	"sort"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// SelectorLabels are the labels every ServiceMonitor, PrometheusRule and
// AlertmanagerConfig of the stack carries so that the region's Prometheus
// and Alertmanager select it: the installed release's values select on
// exactly these (see MonitoringValues); with spec.monitoring.install off
// they are the spec's selectorLabels, what the existing installation
// selects on. Templates reach them through the "monitoringLabels" helper.
func SelectorLabels(st *spec.Stack) map[string]string {
	return maps.Clone(st.Spec.Monitoring.SelectorLabels)
}

// DashboardLabels are the labels the installed Grafana's sidecar loads
// dashboard ConfigMaps by.
func DashboardLabels() map[string]string {
	return map[string]string{spec.GrafanaDashboardLabel: spec.GrafanaDashboardLabelValue}
}

func sortedKV(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The monitoring stack nekoctl installs in every region unless told not to.
const (
	DefaultMonitoringNamespace = "monitoring"
	DefaultMonitoringRelease   = "kube-prometheus-stack"
	DefaultMonitoringChart     = "kube-prometheus-stack"
	// DefaultMonitoringChartVersion is the kube-prometheus-stack version this
	// nekoctl was tested with; spec.monitoring.chart.version overrides it.
	DefaultMonitoringChartVersion = "82.6.0"
	DefaultMonitoringRepository   = "https://prometheus-community.github.io/helm-charts"
	DefaultMonitoringRetention    = "15d"
	DefaultMonitoringStorage      = "50Gi"
	// GrafanaDashboardLabel is what the Grafana sidecar of the installed
	// release looks for on dashboard ConfigMaps (the chart's default).
	GrafanaDashboardLabel      = "grafana_dashboard"
	GrafanaDashboardLabelValue = "1"
)

// MonitoringStack is the Prometheus, Alertmanager and Grafana that pick up the
// workload's ServiceMonitor, rules, Alertmanager configuration and
// dashboard in each region.
type MonitoringStack struct {
	// Install puts kube-prometheus-stack into every region with Helm and
	// keeps it at the chart version and values below (default true). With
	// false, nekoctl targets an existing installation: selectorLabels must
	// then be the labels it selects on.
	Install *bool `json:"install,omitempty"`
	// Namespace of the monitoring stack (installed or existing); the API's
	// NetworkPolicy admits the Prometheus pods from it.
	Namespace string `json:"namespace,omitempty"`
	// Release is the Helm release name.
	Release string          `json:"release,omitempty"`
	Chart   MonitoringChart `json:"chart,omitempty"`
	// Retention of Prometheus's time series, e.g. 15d or 720h.
	Retention string `json:"retention,omitempty"`
	// Storage is the size of Prometheus's volume.
	Storage string `json:"storage,omitempty"`
	// Resources of the Prometheus container.
	Resources Resources `json:"resources,omitempty"`
	// SelectorLabels are put on every object Prometheus or Alertmanager must
	// select (ServiceMonitor, PrometheusRule, AlertmanagerConfig); the
	// installed release selects exactly on them. Default: release=<release>.
	SelectorLabels map[string]string `json:"selectorLabels,omitempty"`
}

// MonitoringChart is where the kube-prometheus-stack chart comes from.
type MonitoringChart struct {
	// Repository is a chart repository URL (https://...) or an OCI
	// reference without the chart name (oci://registry/path); mirrors work.
	Repository string `json:"repository,omitempty"`
	Name       string `json:"name,omitempty"`
	Version    string `json:"version,omitempty"`
}

// Installs reports whether nekoctl installs the monitoring stack.
func (m MonitoringStack) Installs() bool { return On(m.Install) }

// Reference is the chart as Helm names it: an OCI reference with the
// chart's name, or the chart's name in a repository.
func (c MonitoringChart) Reference() string {
	if c.IsOCI() {
		return strings.TrimSuffix(c.Repository, "/") + "/" + c.Name
	}
	return c.Name
}

// IsOCI reports a chart served from an OCI registry.
func (c MonitoringChart) IsOCI() bool { return strings.HasPrefix(c.Repository, "oci://") }

func (m *MonitoringStack) applyDefaults() {
	setBool(&m.Install, true)
	setStr(&m.Namespace, DefaultMonitoringNamespace)
	setStr(&m.Release, DefaultMonitoringRelease)
	setStr(&m.Chart.Repository, DefaultMonitoringRepository)
	setStr(&m.Chart.Name, DefaultMonitoringChart)
	setStr(&m.Chart.Version, DefaultMonitoringChartVersion)
	setStr(&m.Retention, DefaultMonitoringRetention)
	setStr(&m.Storage, DefaultMonitoringStorage)
	setStr(&m.Resources.Requests.CPU, "500m")
	setStr(&m.Resources.Requests.Memory, "2Gi")
	setStr(&m.Resources.Limits.Memory, "4Gi")
	if len(m.SelectorLabels) == 0 {
		// kube-prometheus-stack's own default selector: its objects and ours
		// are picked up alike.
		m.SelectorLabels = map[string]string{"release": m.Release}
	}
}

var (
	// promDurationRE is a Prometheus duration as retention takes it.
	promDurationRE = regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`)
	// chartVersionRE is a semantic version, as Helm pins charts.
	chartVersionRE = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

func (v *validator) monitoring() {
	m := &v.st.Spec.Monitoring
	const p = "spec.monitoring"
	if !dnsLabelRE.MatchString(m.Namespace) {
		v.errorf(p+".namespace", "%q is not a valid namespace name", m.Namespace)
	}
	if m.Release == "" || len(m.Release) > 53 || !dnsLabelRE.MatchString(m.Release) {
		v.errorf(p+".release", "%q is not a valid Helm release name (lower-case letters, digits and '-', at most 53 characters)", m.Release)
	}
	keys := make([]string, 0, len(m.SelectorLabels))
	for k := range m.SelectorLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reservedLabel(k) {
			v.errorf(p+".selectorLabels."+k, "%q is one of nekoctl's own labels (ownership and placement); choose the label the Prometheus selects on", k)
			continue
		}
		for _, msg := range validation.IsQualifiedName(k) {
			v.errorf(p+".selectorLabels."+k, "label key %q: %s", k, msg)
		}
		for _, msg := range validation.IsValidLabelValue(m.SelectorLabels[k]) {
			v.errorf(p+".selectorLabels."+k, "label value %q: %s", m.SelectorLabels[k], msg)
		}
	}
	if !m.Installs() {
		if m.SelectorLabels["release"] == m.Release && len(m.SelectorLabels) == 1 && On(v.st.Spec.Workload.Monitoring.Enabled) {
			v.infof(p+".selectorLabels", "install is off: the objects carry release=%s; set selectorLabels to what the existing Prometheus selects on", m.Release)
		}
		return
	}
	c := m.Chart
	if c.Name == "" || !dnsSubdomainRE.MatchString(c.Name) {
		v.errorf(p+".chart.name", "%q is not a chart name", c.Name)
	}
	if !chartVersionRE.MatchString(c.Version) {
		v.errorf(p+".chart.version", "%q must be an exact chart version (e.g. %s): a range would change what is installed between runs", c.Version, DefaultMonitoringChartVersion)
	}
	if u, err := url.Parse(c.Repository); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http" && u.Scheme != "oci") {
		v.errorf(p+".chart.repository", "%q must be a chart repository URL (https://...) or an OCI reference (oci://registry/path)", c.Repository)
	} else if u.Scheme == "http" {
		v.warnf(p+".chart.repository", "%q is plain HTTP: the chart could be altered on the way", c.Repository)
	}
	if !promDurationRE.MatchString(m.Retention) {
		v.errorf(p+".retention", "%q is not a Prometheus duration (e.g. 15d, 720h)", m.Retention)
	}
	for _, q := range []struct{ path, val string }{
		{".storage", m.Storage},
		{".resources.requests.cpu", m.Resources.Requests.CPU}, {".resources.requests.memory", m.Resources.Requests.Memory},
		{".resources.limits.cpu", m.Resources.Limits.CPU}, {".resources.limits.memory", m.Resources.Limits.Memory},
	} {
		if q.val == "" && q.path == ".resources.limits.cpu" {
			continue // no CPU limit by default: throttling Prometheus loses samples
		}
		if err := checkQuantity(q.val); err != nil {
			v.errorf(p+q.path, "%v", err)
		}
	}
}

// reservedLabel reports the label keys nekoctl sets on every object it owns.
func reservedLabel(k string) bool {
	switch k {
	case "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "app.kubernetes.io/instance", "app.kubernetes.io/name":
		return true
	}
	return strings.HasPrefix(k, "nekoctl.dev/") || strings.HasPrefix(k, "applyset.kubernetes.io/")
}

// Selector renders the selector labels as k=v pairs, sorted.
func (m MonitoringStack) Selector() string {
	keys := make([]string, 0, len(m.SelectorLabels))
	for k := range m.SelectorLabels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%s", k, m.SelectorLabels[k]))
	}
	return strings.Join(parts, ",")
}

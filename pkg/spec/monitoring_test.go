package spec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func monitoringSpec(monitoring string) []byte {
	src := string(regionSpec("{name: us, primary: true, kubeContext: a, cloud: {provider: aws, region: us-east-1}, atlas: {region: US_EAST_1, electableNodes: 3}}"))
	if monitoring != "" {
		src += "  monitoring: " + monitoring + "\n"
	}
	return []byte(src)
}

func TestMonitoringDefaults(t *testing.T) {
	l, err := Parse("m.yaml", monitoringSpec(""))
	if err != nil {
		t.Fatal(err)
	}
	m := l.Stack.Spec.Monitoring
	if !m.Installs() || m.Chart.Version != DefaultMonitoringChartVersion || m.Chart.Reference() != "kube-prometheus-stack" {
		t.Errorf("defaults = %+v", m)
	}
	if diff := cmp.Diff(map[string]string{"release": "kube-prometheus-stack"}, m.SelectorLabels); diff != "" {
		t.Errorf("selector labels (-want +got):\n%s", diff)
	}
	oci := MonitoringChart{Repository: "oci://registry.example/charts/", Name: "kube-prometheus-stack"}
	if got := oci.Reference(); got != "oci://registry.example/charts/kube-prometheus-stack" {
		t.Errorf("OCI reference = %q", got)
	}
}

func TestMonitoringValidation(t *testing.T) {
	for _, tc := range []struct{ name, monitoring, want string }{
		{"version range", "{chart: {version: '^82.0.0'}}", "spec.monitoring.chart.version: \"^82.0.0\" must be an exact chart version"},
		{"repository", "{chart: {repository: 'ftp://mirror'}}", "spec.monitoring.chart.repository: \"ftp://mirror\" must be a chart repository URL"},
		{"retention", "{retention: 2 weeks}", "spec.monitoring.retention: \"2 weeks\" is not a Prometheus duration"},
		{"storage", "{storage: lots}", "spec.monitoring.storage: \"lots\" is not a Kubernetes quantity"},
		{"reserved label", "{selectorLabels: {nekoctl.dev/stack: x}}", "spec.monitoring.selectorLabels.nekoctl.dev/stack: \"nekoctl.dev/stack\" is one of nekoctl's own labels"},
		{"label value", "{selectorLabels: {prometheus: 'not ok!'}}", "spec.monitoring.selectorLabels.prometheus: label value \"not ok!\""},
		{"release name", "{release: Kube_Prom}", "spec.monitoring.release: \"Kube_Prom\" is not a valid Helm release name"},
		{"chart ignored without install", "{install: false, chart: {version: latest}, selectorLabels: {prometheus: main}}", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("m.yaml", monitoringSpec(tc.monitoring))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), "error: "+tc.want) || strings.Count(err.Error(), "error: ") != 1):
				t.Errorf("error %v, want exactly one starting %q", err, tc.want)
			}
		})
	}
}

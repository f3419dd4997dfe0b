package kubetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
)

// MonitoringChart is a small stand-in for kube-prometheus-stack, built
// locally because tests reach no chart repository: the Prometheus
// Operator's CRDs (ServiceMonitor, PrometheusRule, AlertmanagerConfig,
// Prometheus, Alertmanager; schema left open), an operator Deployment, a
// Prometheus and an Alertmanager resource whose selectors come from the
// values exactly as the real chart computes them, and a Grafana
// Deployment with the dashboard sidecar's label and the admin Secret.
type MonitoringChart struct {
	Name, Version string
	// Archive is the packaged chart (.tgz) and Digest its sha256.
	Archive []byte
	Digest  string
}

// BuildMonitoringChart packages the stand-in chart at version into dir.
func BuildMonitoringChart(dir, name, version string) (*MonitoringChart, error) {
	src := filepath.Join(dir, name+"-"+version+"-src")
	files := map[string]string{
		"Chart.yaml":  fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\nappVersion: stand-in\n", name, version),
		"values.yaml": monitoringChartValues,
	}
	for _, k := range operatorKinds {
		files["crds/"+k.plural+".yaml"] = k.crd()
	}
	files["templates/stack.yaml"] = monitoringChartTemplate
	for path, body := range files {
		p := filepath.Join(src, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	ch, err := loader.LoadDir(src)
	if err != nil {
		return nil, err
	}
	return packageChart(ch, dir)
}

func packageChart(ch *chart.Chart, dir string) (*MonitoringChart, error) {
	path, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &MonitoringChart{Name: ch.Metadata.Name, Version: ch.Metadata.Version, Archive: data, Digest: hex.EncodeToString(sum[:])}, nil
}

const monitoringChartValues = `prometheus:
  prometheusSpec:
    retention: 10d
    serviceMonitorSelectorNilUsesHelmValues: true
    serviceMonitorSelector: {}
    serviceMonitorNamespaceSelector: {}
    ruleSelectorNilUsesHelmValues: true
    ruleSelector: {}
    ruleNamespaceSelector: {}
    resources: {}
    storageSpec: {}
alertmanager:
  alertmanagerSpec:
    alertmanagerConfigSelector: {}
    alertmanagerConfigNamespaceSelector: {}
grafana:
  admin:
    existingSecret: ""
    userKey: admin-user
    passwordKey: admin-password
  adminPassword: prom-operator
  sidecar:
    dashboards:
      enabled: true
      label: grafana_dashboard
      labelValue: "1"
      searchNamespace: ""
`

// monitoringChartTemplate computes the selectors as kube-prometheus-stack
// does: with *NilUsesHelmValues and no selector, its own release label.
const monitoringChartTemplate = `{{- $p := .Values.prometheus.prometheusSpec }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-operator
  labels: {release: {{ .Release.Name | quote }}, app: kube-prometheus-stack-operator}
spec:
  replicas: 1
  selector: {matchLabels: {app: kube-prometheus-stack-operator, release: {{ .Release.Name | quote }}}}
  template:
    metadata:
      labels: {app: kube-prometheus-stack-operator, release: {{ .Release.Name | quote }}}
    spec:
      containers:
        - name: operator
          image: stand-in.invalid/prometheus-operator:{{ .Chart.Version }}
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: {{ .Release.Name }}-prometheus
  labels: {release: {{ .Release.Name | quote }}}
spec:
  retention: {{ $p.retention | quote }}
  {{- with $p.resources }}
  resources: {{ toJson . }}
  {{- end }}
  {{- with $p.storageSpec }}
  storage: {{ toJson . }}
  {{- end }}
  {{- if $p.serviceMonitorSelector }}
  serviceMonitorSelector: {{ toJson $p.serviceMonitorSelector }}
  {{- else if $p.serviceMonitorSelectorNilUsesHelmValues }}
  serviceMonitorSelector: {matchLabels: {release: {{ .Release.Name | quote }}}}
  {{- else }}
  serviceMonitorSelector: {}
  {{- end }}
  serviceMonitorNamespaceSelector: {{ toJson $p.serviceMonitorNamespaceSelector }}
  {{- if $p.ruleSelector }}
  ruleSelector: {{ toJson $p.ruleSelector }}
  {{- else if $p.ruleSelectorNilUsesHelmValues }}
  ruleSelector: {matchLabels: {release: {{ .Release.Name | quote }}}}
  {{- else }}
  ruleSelector: {}
  {{- end }}
  ruleNamespaceSelector: {{ toJson $p.ruleNamespaceSelector }}
---
apiVersion: monitoring.coreos.com/v1
kind: Alertmanager
metadata:
  name: {{ .Release.Name }}-alertmanager
  labels: {release: {{ .Release.Name | quote }}}
spec:
  alertmanagerConfigSelector: {{ toJson .Values.alertmanager.alertmanagerSpec.alertmanagerConfigSelector }}
  alertmanagerConfigNamespaceSelector: {{ toJson .Values.alertmanager.alertmanagerSpec.alertmanagerConfigNamespaceSelector }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-grafana
  labels: {release: {{ .Release.Name | quote }}, app.kubernetes.io/name: grafana}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: grafana, release: {{ .Release.Name | quote }}}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: grafana, release: {{ .Release.Name | quote }}}
    spec:
      containers:
        - name: grafana
          image: stand-in.invalid/grafana:{{ .Chart.Version }}
          env:
            {{- with .Values.grafana.admin.existingSecret }}
            - name: GF_SECURITY_ADMIN_PASSWORD
              valueFrom: {secretKeyRef: {name: {{ . | quote }}, key: {{ $.Values.grafana.admin.passwordKey | quote }}}}
            {{- else }}
            - name: GF_SECURITY_ADMIN_PASSWORD
              value: {{ .Values.grafana.adminPassword | quote }}
            {{- end }}
        - name: dashboards-sidecar
          image: stand-in.invalid/k8s-sidecar:{{ .Chart.Version }}
          env:
            - {name: LABEL, value: {{ .Values.grafana.sidecar.dashboards.label | quote }}}
            - {name: LABEL_VALUE, value: {{ .Values.grafana.sidecar.dashboards.labelValue | quote }}}
            - {name: NAMESPACE, value: {{ .Values.grafana.sidecar.dashboards.searchNamespace | default "" | quote }}}
`

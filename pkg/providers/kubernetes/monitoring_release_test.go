package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// A region without the Prometheus Operator gets kube-prometheus-stack (the
// local stand-in, from a chart repository) through the plan: the release
// is created before the ServiceMonitor and PrometheusRule that need its
// CRDs, the installed Prometheus selects the ServiceMonitor, a second plan
// is all no-ops, a new chart version (from an OCI registry) and new values
// are an upgrade with a values diff, and down uninstalls the release.
func TestMonitoringReleaseThroughThePlan(t *testing.T) {
	needCluster(t)
	ctx := context.Background()
	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	// Its own API server: the shared ones must keep their CRDs as they are.
	kube, err := kubetest.Start(sctx, kubetest.Options{}, "us-east")
	if err != nil {
		t.Fatal(err)
	}
	defer kube.Stop()
	chartRepo, oci := kubetest.ServeMonitoringCharts(t, "1.0.0", "1.1.0")

	st := isolatedStack("monhelm")
	st.Spec.Monitoring.Install = spec.Bool(true)
	st.Spec.Monitoring.Chart = spec.MonitoringChart{Repository: chartRepo.URL, Name: "kube-prometheus-stack", Version: "1.0.0"}
	// Alerts go to Slack, critical ones to PagerDuty: their secrets come
	// from the environment.
	st.Spec.Monitoring.Alerting.Receivers = []spec.AlertReceiver{
		{Name: "pager", Type: spec.ReceiverPagerDuty, Severities: []string{"critical"}, SecretEnv: "TEST_PD_KEY"},
		{Name: "team", Type: spec.ReceiverSlack, SecretEnv: "TEST_SLACK_URL", Channel: "#oncall"},
	}
	env := map[string]string{"TEST_PD_KEY": "pd-routing-key-0123456789", "TEST_SLACK_URL": "https://hooks.slack.example/services/T0/B0/secret-path"}
	cfg := Config{PollInterval: 100 * time.Millisecond, DiscoveryCacheDir: "-", RolloutTimeout: 30 * time.Second,
		AddressTimeout: 10 * time.Second, ChartTransport: chartRepo.Transport(),
		ReceiverSecrets: ReadReceiverSecrets(st, func(k string) string { return env[k] })}
	newP := func() *Provider { return New(st, "us-east", kube.RESTConfig("us-east"), cfg) }
	if err := kube.CreateGateway(ctx, "us-east", "gateway-system", "public-gateway", "203.0.113.10"); err != nil {
		t.Fatal(err)
	}

	p := newP()
	changes := planRegion(t, p, upstream(), provider.Options{})
	byKind := map[string]plan.Change{}
	for _, c := range changes {
		byKind[c.Address.Kind] = c
	}
	rel := byKind[ReleaseKind]
	if rel.Action != plan.Create || rel.Address.Name != "monitoring/kube-prometheus-stack" {
		t.Fatalf("release change = %+v", rel)
	}
	for _, k := range []string{"ServiceMonitor", "PrometheusRule", "AlertmanagerConfig"} {
		c := byKind[k]
		if c.Action != plan.Create || !dependsOn(c, rel.Address) {
			t.Errorf("%s = %s depending on %v, want a create after the release", k, c.Action, c.DependsOn)
		}
	}
	for _, c := range changes {
		text := fmt.Sprintf("%v %v", c.After, c.Notes)
		js, _ := json.Marshal(c)
		for _, secret := range env {
			if strings.Contains(text, secret) || strings.Contains(string(js), secret) {
				t.Errorf("the plan shows a receiver's secret at %s", c.Address)
			}
		}
	}
	applyAll(t, p, changes, upstream())

	// Prometheus selects the ServiceMonitor: the installed release's
	// Prometheus resource, matched against the live ServiceMonitor's labels.
	dyn := kube.Dynamic("us-east")
	prom, err := dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}).
		Namespace("monitoring").Get(ctx, "kube-prometheus-stack-prometheus", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sm, err := dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "servicemonitors"}).
		Namespace(st.Spec.Workload.Namespace).Get(ctx, AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"serviceMonitorSelector", "ruleSelector"} {
		sel := selectorOf(t, prom, field)
		if !sel.Matches(labels.Set(sm.GetLabels())) {
			t.Errorf("Prometheus %s %s does not select the ServiceMonitor's labels %v", field, sel, sm.GetLabels())
		}
	}
	if ns, _, _ := unstructured.NestedMap(prom.Object, "spec", "serviceMonitorNamespaceSelector"); len(ns) != 0 {
		t.Errorf("serviceMonitorNamespaceSelector = %v, want every namespace", ns)
	}
	// The installed Alertmanager selects the AlertmanagerConfig, which
	// routes to the receivers with their secrets from the environment.
	am, err := dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "alertmanagers"}).
		Namespace("monitoring").Get(ctx, "kube-prometheus-stack-alertmanager", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	amc, err := dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1alpha1", Resource: "alertmanagerconfigs"}).
		Namespace(st.Spec.Workload.Namespace).Get(ctx, AppName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sel := selectorOf(t, am, "alertmanagerConfigSelector"); !sel.Matches(labels.Set(amc.GetLabels())) {
		t.Errorf("Alertmanager's alertmanagerConfigSelector %s does not select the AlertmanagerConfig's labels %v", sel, amc.GetLabels())
	}
	if r, _, _ := unstructured.NestedString(amc.Object, "spec", "route", "receiver"); r != "team" {
		t.Errorf("default route to %q, want team", r)
	}
	rs, err := kube.Clientset("us-east").CoreV1().Secrets(st.Spec.Workload.Namespace).Get(ctx, alertingSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(rs.Data["team"]) != env["TEST_SLACK_URL"] || string(rs.Data["pager"]) != env["TEST_PD_KEY"] {
		t.Errorf("the receivers' Secret does not hold the environment's values (%d keys)", len(rs.Data))
	}
	// Grafana reads its password from the Secret nekoctl generated.
	s, err := kube.Clientset("us-east").CoreV1().Secrets("monitoring").Get(ctx, "kube-prometheus-stack-grafana-admin", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pw := string(s.Data["admin-password"])
	if len(pw) < 24 || pw == "admin" || pw == "prom-operator" {
		t.Errorf("Grafana admin password %q is not a generated one", pw)
	}
	for _, c := range changes {
		if strings.Contains(c.Address.String()+strings.Join(c.Notes, " "), pw) {
			t.Errorf("the plan shows the Grafana password at %s", c.Address)
		}
	}

	again := planRegion(t, newP(), upstream(), provider.Options{})
	if got := actions(again, true); len(got) != 0 {
		t.Errorf("second plan = %v, want only no-ops", got)
	}
	// A new Slack URL is an update of the Secret, masked; an unset
	// variable fails the plan, naming it.
	env["TEST_SLACK_URL"] = "https://hooks.slack.example/services/T0/B0/rotated-path"
	cfg.ReceiverSecrets = ReadReceiverSecrets(st, func(k string) string { return env[k] })
	rotated := planRegion(t, newP(), upstream(), provider.Options{})
	if got := actions(rotated, true); len(got) != 1 || !strings.Contains(got[0], "Secret") || !strings.Contains(got[0], alertingSecret) {
		t.Errorf("plan after a new Slack URL = %v, want an update of Secret %s", got, alertingSecret)
	}
	if js, _ := json.Marshal(rotated); strings.Contains(string(js), "rotated-path") {
		t.Error("the plan shows the new Slack URL")
	}
	applyAll(t, newP(), rotated, upstream())
	cfg.ReceiverSecrets = ReadReceiverSecrets(st, func(k string) string { return map[string]string{"TEST_PD_KEY": env["TEST_PD_KEY"]}[k] })
	if _, err := tryPlan(newP(), upstream(), provider.Options{}); err == nil || !strings.Contains(err.Error(), "TEST_SLACK_URL") {
		t.Errorf("plan without TEST_SLACK_URL: %v, want an error naming it", err)
	}
	cfg.ReceiverSecrets = ReadReceiverSecrets(st, func(k string) string { return env[k] })

	// A new chart version from the OCI registry and a longer retention.
	st.Spec.Monitoring.Chart = spec.MonitoringChart{Repository: oci.Reference(), Name: "kube-prometheus-stack", Version: "1.1.0"}
	st.Spec.Monitoring.Retention = "30d"
	cfg.ChartTransport = oci.Transport()
	p = newP()
	changes = planRegion(t, p, upstream(), provider.Options{})
	var upgrade plan.Change
	for _, c := range changes {
		if c.Address.Kind == ReleaseKind {
			upgrade = c
		}
	}
	var paths []string
	for _, f := range upgrade.Fields {
		paths = append(paths, f.Path)
	}
	if diff := cmp.Diff([]string{"values.prometheus.prometheusSpec.retention", "version"}, paths); upgrade.Action != plan.Update || diff != "" {
		t.Errorf("upgrade = %s with fields (-want +got):\n%s", upgrade.Action, diff)
	}
	applyAll(t, p, changes, upstream())
	prom, err = dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}).
		Namespace("monitoring").Get(ctx, "kube-prometheus-stack-prometheus", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedString(prom.Object, "spec", "retention"); r != "30d" {
		t.Errorf("retention after the upgrade = %q", r)
	}
	if got, _ := kube.Clientset("us-east").CoreV1().Secrets("monitoring").Get(ctx, "kube-prometheus-stack-grafana-admin", metav1.GetOptions{}); string(got.Data["admin-password"]) != pw {
		t.Error("the upgrade changed Grafana's admin password")
	}

	p = newP()
	down := planRegion(t, p, upstream(), provider.Options{Destroy: true})
	applyAll(t, p, down, upstream())
	hc, err := p.helmClient()
	if err != nil {
		t.Fatal(err)
	}
	if r, err := hc.Get("kube-prometheus-stack"); err != nil || r != nil {
		t.Errorf("release after down = %+v, %v", r, err)
	}
}

func dependsOn(c plan.Change, a plan.Address) bool {
	for _, d := range c.DependsOn {
		if d == a {
			return true
		}
	}
	return false
}

func selectorOf(t *testing.T, u *unstructured.Unstructured, field string) labels.Selector {
	t.Helper()
	raw, _, _ := unstructured.NestedMap(u.Object, "spec", field)
	var ls metav1.LabelSelector
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &ls); err != nil {
		t.Fatal(err)
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Empty() {
		t.Fatalf("%s is empty: it would select everything", field)
	}
	return sel
}

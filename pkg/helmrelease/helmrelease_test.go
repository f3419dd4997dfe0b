package helmrelease

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

var env *kubetest.Env

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "helmrelease: -short: tests against a real API server are skipped")
		os.Exit(m.Run())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	e, err := kubetest.Start(ctx, kubetest.Options{}, "helm")
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "helmrelease: starting the test cluster:", err)
		os.Exit(1)
	}
	env = e
	code := m.Run()
	e.Stop()
	os.Exit(code)
}

var (
	prometheusGVR = schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: "prometheuses"}
	deploymentGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

// The chart is installed from a chart repository and upgraded from an OCI
// registry into a real API server with the Helm SDK: the CRDs come first,
// the Prometheus resource selects what the values say, the labels mark
// the release, and uninstall removes what the release made.
func TestInstallUpgradeUninstall(t *testing.T) {
	if env == nil {
		t.Skip("needs a real API server")
	}
	ctx := context.Background()
	chartRepo, oci := kubetest.ServeMonitoringCharts(t, "1.0.0", "1.1.0")

	c, err := New(env.RESTConfig("helm"), "monitoring")
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.Get("stack"); err != nil || r != nil {
		t.Fatalf("Get before install = %+v, %v", r, err)
	}
	ch, err := Fetch(Source{Repository: chartRepo.URL, Name: "kube-prometheus-stack", Version: "1.0.0", Transport: chartRepo.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"nekoctl.dev/stack": "neko"}
	selector := map[string]any{"matchLabels": map[string]any{"nekoctl.dev/scrape": "neko"}}
	values := map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{
		"serviceMonitorSelectorNilUsesHelmValues": false, "serviceMonitorSelector": selector, "retention": "15d"}}}
	r, err := c.Install(ctx, "stack", ch, values, labels)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != "deployed" || r.Version != "1.0.0" || r.Revision != 1 {
		t.Errorf("installed release = %+v", r)
	}
	dyn := env.Dynamic("helm")
	prom, err := dyn.Resource(prometheusGVR).Namespace("monitoring").Get(ctx, "stack-prometheus", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the chart's Prometheus (its CRD installed first): %v", err)
	}
	got, _, _ := unstructured.NestedMap(prom.Object, "spec", "serviceMonitorSelector")
	if diff := cmp.Diff(selector, got); diff != "" {
		t.Errorf("Prometheus serviceMonitorSelector (-want +got):\n%s", diff)
	}

	read, err := c.Get("stack")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(labels["nekoctl.dev/stack"], read.Labels["nekoctl.dev/stack"]); diff != "" {
		t.Errorf("release label (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(values, read.Values); diff != "" {
		t.Errorf("release values as read back (-want +got):\n%s", diff)
	}

	ch2, err := Fetch(Source{Repository: oci.Reference(), Name: "kube-prometheus-stack", Version: "1.1.0", Transport: oci.Transport()})
	if err != nil {
		t.Fatal(err)
	}
	values2 := map[string]any{"prometheus": map[string]any{"prometheusSpec": map[string]any{"retention": "30d"}}}
	r, err = c.Upgrade(ctx, "stack", ch2, values2, labels)
	if err != nil {
		t.Fatal(err)
	}
	if r.Version != "1.1.0" || r.Revision != 2 || !r.Deployed() {
		t.Errorf("upgraded release = %+v", r)
	}
	prom, err = dyn.Resource(prometheusGVR).Namespace("monitoring").Get(ctx, "stack-prometheus", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ret, _, _ := unstructured.NestedString(prom.Object, "spec", "retention"); ret != "30d" {
		t.Errorf("retention after upgrade = %q, want 30d", ret)
	}
	// Values are not reused: the selector set at install is gone.
	got, _, _ = unstructured.NestedMap(prom.Object, "spec", "serviceMonitorSelector")
	if diff := cmp.Diff(map[string]any{"matchLabels": map[string]any{"release": "stack"}}, got); diff != "" {
		t.Errorf("selector after upgrade without it (-want +got):\n%s", diff)
	}

	if err := c.Uninstall("stack"); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Get("stack"); err != nil || r != nil {
		t.Errorf("Get after uninstall = %+v, %v", r, err)
	}
	if _, err := dyn.Resource(deploymentGVR).Namespace("monitoring").Get(ctx, "stack-operator", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("operator Deployment after uninstall: %v, want not found", err)
	}
	if err := c.Uninstall("stack"); err != nil {
		t.Errorf("a second uninstall: %v", err)
	}
}

func TestFetchRefusesAMissingVersion(t *testing.T) {
	chartRepo, oci := kubetest.ServeMonitoringCharts(t, "1.0.0")
	for _, s := range []Source{
		{Repository: chartRepo.URL, Name: "kube-prometheus-stack", Version: "9.9.9", Transport: chartRepo.Transport()},
		{Repository: oci.Reference(), Name: "kube-prometheus-stack", Version: "9.9.9", Transport: oci.Transport()},
	} {
		if _, err := Fetch(s); err == nil {
			t.Errorf("%s: fetched a version the repository does not hold", s)
		}
	}
	if chartRepo.Downloads != 0 {
		t.Errorf("downloads = %d, want 0", chartRepo.Downloads)
	}
}

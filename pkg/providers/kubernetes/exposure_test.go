package kubernetes

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// platformGateway creates a Gateway "edge" in its own namespace with one
// HTTPS listener on 443 for hostname (every host when empty) serving the
// Secret certNS/cert.
func platformGateway(t *testing.T, region, namespace, hostname, certNS, cert string) {
	t.Helper()
	ctx := context.Background()
	_, err := env.Clientset(region).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dropNamespace(t, region, namespace)
	gw := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "edge", "namespace": namespace},
		"spec": map[string]any{
			"gatewayClassName": "platform",
			"listeners": []any{map[string]any{"name": "shop", "port": int64(443), "protocol": "HTTPS",
				"tls":           map[string]any{"certificateRefs": []any{map[string]any{"name": cert, "namespace": certNS}}},
				"allowedRoutes": map[string]any{"namespaces": map[string]any{"from": "All"}}}},
		},
	}}
	if hostname != "" {
		l, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
		l[0].(map[string]any)["hostname"] = hostname
		_ = unstructured.SetNestedSlice(gw.Object, l, "spec", "listeners")
	}
	if _, err := env.Dynamic(region).Resource(gatewayGVR).Namespace(namespace).Create(ctx, gw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := env.SetGatewayAddress(ctx, region, namespace, "edge", "203.0.113.90"); err != nil {
		t.Fatal(err)
	}
}

// TestPlatformGatewayWithoutListener: plan reports, for the region, each
// API hostname no HTTPS listener on 443 covers, and that the Gateway does
// not validate client certificates.
func TestPlatformGatewayWithoutListener(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "asia-pacific"
	st := isolatedStack("gw-nolistener")
	st.Spec.Workload.Exposure.Gateway.Name, st.Spec.Workload.Exposure.Gateway.Namespace = "edge", "gw-nolistener-platform"
	platformGateway(t, region, "gw-nolistener-platform", "shop.nekodefense.example", "gw-nolistener-platform", "shop-tls")

	ds := newProvider(t, st, region, nil).Check(context.Background())
	text := diagnosticsText(ds)
	for _, want := range []string{
		"warning region asia-pacific: Gateway gw-nolistener-platform/edge: no HTTPS listener on port 443 covers api.nekodefense.example",
		"warning region asia-pacific: Gateway gw-nolistener-platform/edge: no HTTPS listener on port 443 covers www.api.nekodefense.example",
		"does not validate client certificates on 443",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("plan diagnostics lack %q:\n%s", want, text)
		}
	}
}

func diagnosticsText(ds []plan.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Severity + " " + d.Message + "\n")
	}
	return b.String()
}

// TestRouteNotAcceptedFailsUp: when the Gateway's controller does not
// accept the route, the end of up fails naming the region and the
// condition's reason; once accepted, it passes and plan says so.
func TestRouteNotAcceptedFailsUp(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "us-east"
	st := isolatedStack("route-refused")
	st.Spec.Workload.Exposure.Gateway.Name, st.Spec.Workload.Exposure.Gateway.Namespace = "edge", "route-refused-platform"
	platformGateway(t, region, "route-refused-platform", "", st.Spec.Workload.Namespace, tlsSecret)
	dropNamespace(t, region, st.Spec.Workload.Namespace)
	env.Controller().SetRouteStatus(region, st.Spec.Workload.Namespace, AppName, kubetest.RouteStatus{
		NotAccepted: "NotAllowedByListeners", Message: "no listener admits routes from namespace route-refused"})
	out := upstream()
	p := newProvider(t, st, region, nil)
	applyAll(t, p, planRegion(t, p, out, provider.Options{}), out)

	err := newProvider(t, st, region, nil).Verify(context.Background())
	if err == nil || !strings.Contains(err.Error(), "region us-east") || !strings.Contains(err.Error(), "NotAllowedByListeners") ||
		!strings.Contains(err.Error(), "HTTPRoute route-refused/"+AppName) {
		t.Fatalf("Verify = %v, want the region, the route and the reason NotAllowedByListeners", err)
	}
	if text := diagnosticsText(newProvider(t, st, region, nil).Check(context.Background())); !strings.Contains(text, "not accepted by route-refused-platform/edge: NotAllowedByListeners") {
		t.Errorf("plan does not report the refused route:\n%s", text)
	}

	env.Controller().SetRouteStatus(region, st.Spec.Workload.Namespace, AppName, kubetest.RouteStatus{})
	kubetestWait(t, func() bool {
		r, err := env.Dynamic(region).Resource(httpRouteGVR).Namespace(st.Spec.Workload.Namespace).Get(context.Background(), AppName, metav1.GetOptions{})
		return err == nil && strings.Contains(fmt.Sprint(r.Object["status"]), "reason:Accepted")
	})
	ev := &events{}
	if err := newProvider(t, st, region, ev).Verify(context.Background()); err != nil {
		t.Fatalf("Verify after the route was accepted: %v", err)
	}
	if !contains(ev.messages(), "HTTPRoute accepted by route-refused-platform/edge, references resolved") {
		t.Errorf("events lack the accepted route:\n%s", strings.Join(ev.messages(), "\n"))
	}
}

// TestOwnedGatewayChecks: after up, the owned Gateway's listeners cover
// every hostname with the origin certificate and Verify passes.
func TestOwnedGatewayChecks(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "asia-pacific"
	st := ownedGatewayStack("owned-checks")
	g := st.Spec.Workload.Exposure.Gateway
	env.Controller().AssignGatewayAddress(region, g.Namespace, g.Name, "203.0.113.66")
	dropNamespace(t, region, st.Spec.Workload.Namespace)
	if text := diagnosticsText(newProvider(t, st, region, nil).Check(context.Background())); !strings.Contains(text, "info region asia-pacific: Gateway owned-checks/public-gateway: created by up") {
		t.Errorf("plan before up:\n%s", text)
	}
	out := upstream()
	p := newProvider(t, st, region, nil)
	applyAll(t, p, planRegion(t, p, out, provider.Options{}), out)
	if err := newProvider(t, st, region, nil).Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	text := diagnosticsText(newProvider(t, st, region, nil).Check(context.Background()))
	for _, want := range []string{"listener https serves api.nekodefense.example on 443 with the origin certificate",
		"listener https-www-api serves www.api.nekodefense.example on 443 with the origin certificate",
		"HTTPRoute owned-checks/neko-api: accepted by owned-checks/public-gateway",
		"requires client certificates on 443 signed by ConfigMap owned-checks/" + originPullName} {
		if !strings.Contains(text, want) {
			t.Errorf("plan after up lacks %q:\n%s", want, text)
		}
	}
}

// healthLine reports whether a status line of kind has state and a detail
// containing detail.
func healthLine(hs []provider.Health, kind, state, detail string) bool {
	for _, h := range hs {
		if h.Address.Kind == kind && h.State == state && strings.Contains(h.Detail, detail) {
			return true
		}
	}
	return false
}

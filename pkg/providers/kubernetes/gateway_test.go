package kubernetes

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// ownedGatewayStack is an isolated stack whose Gateway nekoctl creates.
func ownedGatewayStack(name string) *spec.Stack {
	st := isolatedStack(name)
	st.Spec.Workload.Exposure.Gateway = spec.GatewayRef{Create: ptrTo(true), ClassName: "envoy"}
	st.ApplyDefaults()
	return st
}

func ptrTo[T any](v T) *T { return &v }

// TestRenderOwnedGateway: with exposure.gateway.create, render prints a
// Gateway whose HTTPS listeners serve the origin certificate Secret, an
// HTTP listener whose only route redirects to HTTPS, and routes admitted
// only from the workload namespace.
func TestRenderOwnedGateway(t *testing.T) {
	st := ownedGatewayStack("neko-defense")
	st.Spec.Workload.Namespace = spec.DefaultNamespace
	st.Spec.Workload.Exposure.Gateway.Namespace = spec.DefaultNamespace
	out, err := Render(st, "us-east", nil)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "render-owned-gateway-us-east.yaml", out)
	objs, err := kubetest.DecodeManifests(out)
	if err != nil {
		t.Fatal(err)
	}
	var gw, redirect *unstructured.Unstructured
	for _, o := range objs {
		switch {
		case o.GetKind() == "Gateway":
			gw = o
		case o.GetKind() == "HTTPRoute" && o.GetName() == AppName+"-https-redirect":
			redirect = o
		case o.GetKind() == "ReferenceGrant":
			t.Errorf("an owned Gateway shares the certificate's namespace: no ReferenceGrant wanted")
		}
	}
	if gw == nil || redirect == nil {
		t.Fatalf("Gateway or redirect route missing:\n%s", out)
	}
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	https := map[string]bool{}
	for _, l := range listeners {
		m := l.(map[string]any)
		if m["protocol"] != "HTTPS" {
			continue
		}
		refs, _, _ := unstructured.NestedSlice(m, "tls", "certificateRefs")
		if fmt.Sprint(m["port"]) != "443" || len(refs) != 1 || refs[0].(map[string]any)["name"] != tlsSecret ||
			refs[0].(map[string]any)["kind"] != "Secret" {
			t.Errorf("HTTPS listener %v does not serve the origin certificate Secret %s on 443", m, tlsSecret)
		}
		if from, _, _ := unstructured.NestedString(m, "allowedRoutes", "namespaces", "from"); from != "Same" {
			t.Errorf("listener %s admits routes from %q, want Same", m["name"], from)
		}
		https[m["hostname"].(string)] = true
	}
	for _, h := range st.Spec.FQDNs() {
		if !https[h] {
			t.Errorf("no HTTPS listener for %s", h)
		}
	}
	refs, _, _ := unstructured.NestedSlice(redirect.Object, "spec", "parentRefs")
	if len(refs) != 1 || refs[0].(map[string]any)["sectionName"] != spec.OwnedGatewayHTTPListener {
		t.Errorf("redirect route attaches to %v, want the HTTP listener only", refs)
	}
	if !strings.Contains(string(out), "type: RequestRedirect") {
		t.Error("no RequestRedirect filter")
	}
	refs, _, _ = unstructured.NestedSlice(gw.Object, "spec", "tls", "frontend", "default", "validation", "caCertificateRefs")
	mode, _, _ := unstructured.NestedString(gw.Object, "spec", "tls", "frontend", "default", "validation", "mode")
	if len(refs) != 1 || refs[0].(map[string]any)["kind"] != "ConfigMap" || refs[0].(map[string]any)["name"] != originPullName || mode != "AllowValidOnly" {
		t.Errorf("HTTPS listeners do not require Cloudflare's client certificate: refs %v, mode %q", refs, mode)
	}
	var ca string
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == originPullName {
			ca, _, _ = unstructured.NestedString(o.Object, "data", "ca.crt")
		}
	}
	if ca != cloudflareOriginPullCA {
		t.Errorf("ConfigMap %s does not hold Cloudflare's origin-pull CA: %q", originPullName, ca)
	}

	st.Spec.Cloudflare.SSL.AuthenticatedOriginPulls = ptrTo(false)
	off, err := Render(st, "us-east", nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(off), "frontend:") || strings.Contains(string(off), originPullName) {
		t.Error("authenticatedOriginPulls: false still requires a client certificate")
	}
}

// TestRenderIngressOriginPull: Ingress exposure asks the controller for
// Cloudflare's client certificate, with the CA in a Secret.
func TestRenderIngressOriginPull(t *testing.T) {
	st := testStack()
	st.Spec.Workload.Exposure.Type = "ingress"
	out, err := Render(st, "eu-west", provider.NewOutputs())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"nginx.ingress.kubernetes.io/auth-tls-secret: neko-defense/" + originPullName,
		`nginx.ingress.kubernetes.io/auth-tls-verify-client: "on"`,
		"name: " + originPullName,
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("render lacks %q", want)
		}
	}
}

// TestOwnedGatewayLifecycle: an owned Gateway is created before its routes
// and publishes the region's address; a second plan is empty; a class change
// is an update; turning create off prunes the Gateway and the redirect route
// and attaches the route to the platform Gateway.
func TestOwnedGatewayLifecycle(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "eu-west"
	st := ownedGatewayStack("owned-gw")
	g := st.Spec.Workload.Exposure.Gateway
	env.Controller().AssignGatewayAddress(region, g.Namespace, g.Name, "203.0.113.55")
	dropNamespace(t, region, st.Spec.Workload.Namespace)
	ctx := context.Background()

	out := upstream()
	p := newProvider(t, st, region, nil)
	changes := planRegion(t, p, out, provider.Options{})
	want := []string{"create Gateway owned-gw/" + g.Name, "create HTTPRoute owned-gw/" + AppName + "-https-redirect"}
	for _, w := range want {
		if !contains(actions(changes, true), w) {
			t.Errorf("plan lacks %q:\n%s", w, strings.Join(actions(changes, true), "\n"))
		}
	}
	applyAll(t, p, changes, out)
	if got := out.Value(fmt.Sprintf(provider.OutIngressAddress, region)); got != "203.0.113.55" {
		t.Errorf("published address = %v, want the owned Gateway's 203.0.113.55", got)
	}
	if again := actions(planRegion(t, newProvider(t, st, region, nil), upstream(), provider.Options{}), true); len(again) != 0 {
		t.Errorf("second plan not empty:\n%s", strings.Join(again, "\n"))
	}

	st.Spec.Workload.Exposure.Gateway.ClassName = "cilium"
	changes = planRegion(t, newProvider(t, st, region, nil), upstream(), provider.Options{})
	if got := actions(changes, true); len(got) != 1 || got[0] != "update Gateway owned-gw/"+g.Name {
		t.Errorf("class change plans %v, want one Gateway update", got)
	}

	off := isolatedStack("owned-gw")
	changes = planRegion(t, newProvider(t, off, region, nil), upstream(), provider.Options{})
	got := actions(changes, true)
	for _, w := range []string{"delete Gateway owned-gw/" + g.Name, "delete HTTPRoute owned-gw/" + AppName + "-https-redirect",
		"update HTTPRoute owned-gw/" + AppName, "create ReferenceGrant owned-gw/" + AppName + "-origin-tls"} {
		if !contains(got, w) {
			t.Errorf("plan with create off lacks %q:\n%s", w, strings.Join(got, "\n"))
		}
	}
	applyAll(t, newProvider(t, off, region, nil), changes, upstream())
	_, err := env.Dynamic(region).Resource(gatewayGVR).Namespace(g.Namespace).Get(ctx, g.Name, metav1.GetOptions{})
	if err == nil {
		t.Error("the owned Gateway is still there after it left the spec")
	}
}

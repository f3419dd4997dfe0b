package kubernetes

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// trustedProxiesPlanned reads the region and returns the API's
// TRUSTED_PROXY_CIDRS as Desired renders it from what Read learned.
func trustedProxiesPlanned(t *testing.T, st *spec.Stack, region string) string {
	t.Helper()
	p := newProvider(t, st, region, nil)
	out := upstream()
	if _, err := p.Read(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	res, err := p.Desired(context.Background(), out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Address.Kind == "ConfigMap" && nameOf(r.Doc) == AppName+"-config" {
			data, _ := r.Doc["data"].(map[string]any)
			s, _ := data["TRUSTED_PROXY_CIDRS"].(string)
			return s
		}
	}
	t.Fatal("no API ConfigMap planned")
	return ""
}

// TestTrustedProxiesFollowThePodNetwork: the API believes forwarding headers
// only from the pod ranges the cluster's Nodes allocate (where the Gateway's
// pods run), the spec's ranges when it names them, and every private range
// only when the pod network cannot be read. Not parallel: Nodes are
// cluster-wide and other tests' plans would see them.
func TestTrustedProxiesFollowThePodNetwork(t *testing.T) {
	needCluster(t)
	const region = "eu-west"
	st := isolatedStack("trusted-proxies")
	if got := trustedProxiesPlanned(t, st, region); got != "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16" {
		t.Errorf("without nodes: %q, want the private ranges", got)
	}

	ctx := context.Background()
	nodes := env.Clientset(region).CoreV1().Nodes()
	for name, cidrs := range map[string][]string{"node-a": {"10.244.1.0/24", "fd00:10:244:1::/64"}, "node-b": {"10.244.0.0/24"}} {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidrs[0], PodCIDRs: cidrs}}
		if _, err := nodes.Create(ctx, n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nodes.Delete(context.Background(), name, metav1.DeleteOptions{}) })
	}
	if got := trustedProxiesPlanned(t, st, region); got != "10.244.0.0/24,10.244.1.0/24,fd00:10:244:1::/64" {
		t.Errorf("with nodes: %q, want their pod ranges", got)
	}

	st.Spec.Workload.Exposure.TrustedProxyCIDRs = []string{"100.64.0.0/10"}
	if got := trustedProxiesPlanned(t, st, region); got != "100.64.0.0/10" {
		t.Errorf("with the spec's ranges: %q", got)
	}
}

package kubernetes

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

var nodeGVR = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}

// outPodNetwork is the key under which Read leaves a region's pod ranges
// for Desired (a []string; absent when unknown).
const outPodNetwork = "kubernetes/%s/pod_network"

// privateRanges are trusted as proxies only when the pod network cannot be
// read: every address the cluster could reach the API from.
var privateRanges = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// podNetwork lists the cluster's Nodes for the pod ranges they allocate
// (spec.podCIDRs). The Gateway's or Ingress controller's pods sit in those
// ranges, and the NetworkPolicy admits only them (and Prometheus) to the
// API's port, so they are the proxies whose forwarding headers the API
// believes. Nil when the ranges cannot be known: a deployer without
// permission to list Nodes, or a network plugin that gives pods addresses
// from the node network (no podCIDR on the nodes).
func (p *Provider) podNetwork(ctx context.Context) []string {
	l, err := p.dyn.Resource(nodeGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var out []string
	for _, n := range l.Items {
		spec, _ := n.Object["spec"].(map[string]any)
		cidrs, _ := spec["podCIDRs"].([]any)
		if len(cidrs) == 0 && spec["podCIDR"] != nil {
			cidrs = []any{spec["podCIDR"]}
		}
		for _, c := range cidrs {
			s, _ := c.(string)
			if pfx, err := netip.ParsePrefix(s); err == nil && !slices.Contains(out, pfx.Masked().String()) {
				out = append(out, pfx.Masked().String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// trustedProxies are the addresses whose forwarding headers the API
// believes: the spec's, else the pod network read from the cluster, else
// every private range.
func trustedProxies(explicit, podNetwork []string) string {
	switch {
	case len(explicit) > 0:
		return strings.Join(explicit, ",")
	case len(podNetwork) > 0:
		return strings.Join(podNetwork, ",")
	}
	return strings.Join(privateRanges, ",")
}

func podNetworkOf(out provider.Outputs, region string) []string {
	if out == nil {
		return nil
	}
	v, _ := out.Get(fmt.Sprintf(outPodNetwork, region))
	cidrs, _ := v.([]string)
	return cidrs
}

package kubetest

import (
	"net"

	networkingv1 "k8s.io/api/networking/v1"
)

func isIP(s string) bool { return net.ParseIP(s) != nil }

func networkingIngress(addr string) []networkingv1.IngressLoadBalancerIngress {
	if isIP(addr) {
		return []networkingv1.IngressLoadBalancerIngress{{IP: addr}}
	}
	return []networkingv1.IngressLoadBalancerIngress{{Hostname: addr}}
}

package kubernetes

import (
	"context"
	"encoding/base64"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/probe"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// probeOrigin asks the region's public address for the health path as
// Cloudflare's monitor does (the API hostname as SNI and Host, the
// monitor's port and path) and compares the certificate with the origin
// certificate in the region's TLS Secret.
func (p *Provider) probeOrigin(ctx context.Context) (probe.Result, error) {
	addr, err := p.publicAddress(ctx)
	if err != nil {
		return probe.Result{}, err
	}
	if addr == "" {
		return probe.Result{Skipped: "the region has no public address yet"}, nil
	}
	m := p.st.Spec.Cloudflare.LoadBalancer.Monitor
	req := probe.Request{Address: addr, Port: m.Port, Path: m.Path, Host: p.st.Spec.FQDNs()[0],
		OriginCert: p.deployedOriginCert(ctx)}
	if req.Port == 0 {
		req.Port = 443
	}
	if m.Timeout != nil && m.Timeout.Duration > 0 {
		req.Timeout = 2 * m.Timeout.Duration
	}
	return probe.Run(ctx, req), nil
}

// deployedOriginCert is the certificate in the region's TLS Secret, or ""
// when there is none to compare with.
func (p *Provider) deployedOriginCert(ctx context.Context) string {
	if !on(p.st.Spec.Cloudflare.OriginCert.Enabled) {
		return ""
	}
	s, err := p.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "secrets"}).
		Namespace(p.st.Spec.Workload.Namespace).Get(ctx, tlsSecret, metav1.GetOptions{})
	if err != nil {
		return ""
	}
	data, _ := s.Object["data"].(map[string]any)
	b, err := base64.StdEncoding.DecodeString(str(data["tls.crt"]))
	if err != nil {
		return ""
	}
	return string(b)
}

// probeHealth is the probe as a `status` line: a skipped probe is healthy
// with its note; a failed one is unhealthy with the reason.
func (p *Provider) probeHealth(ctx context.Context) provider.Health {
	h := provider.Health{Address: p.address("OriginProbe", "", p.st.Spec.FQDNs()[0])}
	r, err := p.probeOrigin(ctx)
	switch {
	case err != nil:
		h.State, h.Detail = "Unknown", apiMessage(err)
	case r.Skipped != "":
		h.State, h.Healthy, h.Detail = "Skipped", true, r.Summary()
	case r.Healthy:
		h.State, h.Healthy, h.Detail = "Serving", true, r.Summary()
	default:
		h.State, h.Detail = "Failing", r.Summary()
	}
	return h
}

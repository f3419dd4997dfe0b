package kubernetes

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

var (
	deploymentGK = schema.GroupKind{Group: "apps", Kind: "Deployment"}
	hpaGK        = schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}
	secretGK     = schema.GroupKind{Kind: "Secret"}
)

// workloadFacts are the API Deployment's pods against its autoscaler and
// the image it runs against the one this nekoctl deploys; nil for any
// other object.
func (p *Provider) workloadFacts(snap *snapshot, m *unstructured.Unstructured) provider.Facts {
	ns := p.st.Spec.Workload.Namespace
	if keyOf(m) != (objKey{deploymentGK, ns, AppName}) {
		return provider.Facts{}
	}
	desired, _, _ := unstructured.NestedInt64(m.Object, "spec", "replicas")
	ready, _, _ := unstructured.NestedInt64(m.Object, "status", "readyReplicas")
	pods := &provider.Pods{Ready: int(ready), Desired: int(desired)}
	if hpa, ok := snap.get(objKey{hpaGK, ns, AppName}); ok {
		lo, _, _ := unstructured.NestedInt64(hpa.Object, "spec", "minReplicas")
		hi, _, _ := unstructured.NestedInt64(hpa.Object, "spec", "maxReplicas")
		pods.HPAMin, pods.HPAMax = int(lo), int(hi)
	}
	img := &provider.Image{Expected: p.st.Spec.Workload.Image}
	containers, _, _ := unstructured.NestedSlice(m.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if c, ok := c.(map[string]any); ok && c["name"] == "api" {
			img.Running = str(c["image"])
		}
	}
	img.Matches = img.Running == img.Expected
	return provider.Facts{Pods: pods, Image: img}
}

// certificateHealth is the origin certificate the region's TLS Secret
// holds: unhealthy when it is missing, unreadable, expired or inside the
// renewal window (the next `up` renews it). Only tls.crt is read.
func (p *Provider) certificateHealth(snap *snapshot) (provider.Health, bool) {
	if !on(p.st.Spec.Cloudflare.OriginCert.Enabled) {
		return provider.Health{}, false
	}
	ns := p.st.Spec.Workload.Namespace
	h := provider.Health{Address: p.address("OriginCertificate", ns, tlsSecret), State: "Missing",
		Detail: "no TLS Secret " + tlsSecret}
	s, ok := snap.get(objKey{secretGK, ns, tlsSecret})
	if !ok {
		return h, true
	}
	data, _, _ := unstructured.NestedStringMap(s.Object, "data")
	cert, err := parseCertificate(data["tls.crt"])
	if err != nil {
		h.State, h.Detail = "Invalid", err.Error()
		return h, true
	}
	now := p.opts.Now()
	left := cert.NotAfter.Sub(now)
	h.Certificate = &provider.Certificate{Subject: cert.Subject.String(), Issuer: cert.Issuer.String(),
		NotAfter: cert.NotAfter.UTC(), DaysLeft: int(left.Hours() / 24)}
	var window time.Duration
	if rb := p.st.Spec.Cloudflare.OriginCert.RenewBefore; rb != nil {
		window = rb.Duration
	}
	expires := fmt.Sprintf("expires %s (in %d days)", cert.NotAfter.UTC().Format("2006-01-02"), h.Certificate.DaysLeft)
	switch {
	case left <= 0:
		h.State, h.Detail = "Expired", "expired "+cert.NotAfter.UTC().Format("2006-01-02")+": run nekoctl up to issue a new one"
	case left < window:
		h.State, h.Detail = "Expiring", expires+fmt.Sprintf(", inside the renewal window of %d days: run", int(window.Hours()/24))+" nekoctl up to renew it"
	default:
		h.State, h.Healthy, h.Detail = "Valid", true, expires
	}
	return h, true
}

// parseCertificate reads the first certificate of a Secret's base64 PEM.
func parseCertificate(b64 string) (*x509.Certificate, error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("tls.crt is not base64: %w", err)
	}
	for {
		var b *pem.Block
		if b, raw = pem.Decode(raw); b == nil {
			return nil, fmt.Errorf("tls.crt holds no PEM certificate")
		}
		if b.Type == "CERTIFICATE" {
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("tls.crt: %w", err)
			}
			return c, nil
		}
	}
}

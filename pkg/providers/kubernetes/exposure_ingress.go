package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// checkIngress checks Ingress exposure: the class exists, the TLS section
// serves the origin certificate for every hostname, an address is assigned
// and the controller is told to require Cloudflare's client certificate.
func (p *Provider) checkIngress(ctx context.Context, r liveReads) ([]exposureCheck, error) {
	e := p.st.Spec.Workload.Exposure
	ns := p.st.Spec.Workload.Namespace
	var out []exposureCheck
	class := exposureCheck{Subject: "IngressClass " + e.Ingress.ClassName}
	_, err := r.get(ctx, ingressClassGVR, "IngressClass", "", e.Ingress.ClassName)
	switch {
	case apierrors.IsNotFound(err):
		class.Detail = "does not exist: no Ingress controller of this class runs in the cluster"
	case err != nil:
		return nil, fmt.Errorf("reading %s: %s", class.Subject, apiMessage(err))
	default:
		class.OK, class.Detail = true, "exists"
	}
	out = append(out, class)

	subject := fmt.Sprintf("Ingress %s/%s", ns, AppName)
	ing, err := r.get(ctx, ingressGVR, "Ingress", ns, AppName)
	switch {
	case apierrors.IsNotFound(err):
		return append(out, exposureCheck{Subject: subject, Pending: true, Detail: "created by up"}), nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %s", subject, apiMessage(err))
	}
	if on(p.st.Spec.Cloudflare.OriginCert.Enabled) {
		out = append(out, ingressTLSCheck(subject, ing, p.st.Spec.FQDNs()))
	}
	addr := exposureCheck{Subject: subject, Detail: "no address assigned by the Ingress controller"}
	if a := ingressAddress(ing); a != "" {
		addr.OK, addr.Detail = true, "address "+a
	}
	return append(out, addr), nil
}

// ingressTLSCheck finds the hostnames the origin certificate Secret is not
// served for.
func ingressTLSCheck(subject string, ing *unstructured.Unstructured, hosts []string) exposureCheck {
	tls, _, _ := unstructured.NestedSlice(ing.Object, "spec", "tls")
	var covered []string
	for _, t := range tls {
		m, _ := t.(map[string]any)
		if str(m["secretName"]) != tlsSecret {
			continue
		}
		hs, _, _ := unstructured.NestedStringSlice(m, "hosts")
		covered = append(covered, hs...)
	}
	var missing []string
	for _, h := range hosts {
		if !slices.Contains(covered, h) {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return exposureCheck{Subject: subject, Detail: fmt.Sprintf("the TLS section does not serve the origin certificate Secret %s for %s",
			tlsSecret, strings.Join(missing, ", "))}
	}
	return exposureCheck{Subject: subject, OK: true, Detail: "TLS with the origin certificate for " + strings.Join(hosts, ", ")}
}

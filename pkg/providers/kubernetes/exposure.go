package kubernetes

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The Gateway API and Ingress resources the exposure checks read.
var (
	gatewayGVR        = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	httpRouteGVR      = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	referenceGrantGVR = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "referencegrants"}
	ingressGVR        = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}
	ingressClassGVR   = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
)

// exposureCheck is one fact about how the region is reached from Cloudflare.
type exposureCheck struct {
	// Subject names the object looked at: "Gateway ns/name".
	Subject string
	OK      bool
	// Pending: not checkable yet, because `up` creates what it needs.
	Pending bool
	Detail  string
	// Reason is the failing condition's reason, when a controller gave one.
	Reason string
	// Advisory failures weaken the origin but do not stop traffic (no
	// client certificate validation): `up` warns instead of failing.
	Advisory bool
}

func (c exposureCheck) String() string { return c.Subject + ": " + c.Detail }

// checkExposure reads what carries traffic to the API in this region (the
// Gateway and the route's status, or the IngressClass and the Ingress) and
// says whether Cloudflare's requests can reach it. It modifies nothing.
// r answers its reads (from the plan's snapshot, or live).
func (p *Provider) checkExposure(ctx context.Context, r liveReads) ([]exposureCheck, error) {
	if err := p.clients(); err != nil {
		return nil, err
	}
	if p.st.Spec.Workload.Exposure.Type == "ingress" {
		return p.checkIngress(ctx, r)
	}
	return p.checkGateway(ctx, r)
}

func (p *Provider) checkGateway(ctx context.Context, r liveReads) ([]exposureCheck, error) {
	e := p.st.Spec.Workload.Exposure
	owned := on(e.Gateway.Create)
	subject := fmt.Sprintf("Gateway %s/%s", e.Gateway.Namespace, e.Gateway.Name)
	gw, err := r.get(ctx, gatewayGVR, "Gateway", e.Gateway.Namespace, e.Gateway.Name)
	switch {
	case apierrors.IsNotFound(err) && owned:
		return []exposureCheck{{Subject: subject, Pending: true, Detail: "created by up"}}, nil
	case apierrors.IsNotFound(err):
		return []exposureCheck{{Subject: subject, Detail: "does not exist: create it, or set workload.exposure.gateway.create: true to let nekoctl own it"}}, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %s", subject, apiMessage(err))
	}
	var out []exposureCheck
	listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
	granted := p.certificateGranted(ctx, r, gw)
	for _, h := range p.st.Spec.FQDNs() {
		out = append(out, p.listenerCheck(subject, gw, listeners, h, granted))
	}
	out = append(out, clientAuthCheck(subject, gw))
	route, err := p.routeCheck(ctx, r, gw)
	if err != nil {
		return nil, err
	}
	return append(out, route), nil
}

// listenerCheck finds an HTTPS listener on 443 whose hostname covers host,
// serving the origin certificate and admitting routes from the workload
// namespace.
func (p *Provider) listenerCheck(subject string, gw *unstructured.Unstructured, listeners []any, host string, granted grant) exposureCheck {
	c := exposureCheck{Subject: subject}
	tlsOn := on(p.st.Spec.Cloudflare.OriginCert.Enabled)
	var near []string
	for _, l := range listeners {
		m, _ := l.(map[string]any)
		port, _, _ := unstructured.NestedInt64(m, "port")
		if str(m["protocol"]) != "HTTPS" || port != 443 || !hostnameCovers(str(m["hostname"]), host) {
			continue
		}
		name := str(m["name"])
		if tlsOn && !p.servesOriginCert(gw, m) {
			near = append(near, fmt.Sprintf("listener %s covers %s on 443 but does not serve the origin certificate Secret %s/%s",
				name, host, p.st.Spec.Workload.Namespace, tlsSecret))
			continue
		}
		if !p.admitsRoutes(gw, m) {
			near = append(near, fmt.Sprintf("listener %s covers %s on 443 but does not admit routes from namespace %s",
				name, host, p.st.Spec.Workload.Namespace))
			continue
		}
		c.OK, c.Detail = true, fmt.Sprintf("listener %s serves %s on 443", name, host)
		if tlsOn {
			c.Detail += " with the origin certificate" + granted.note()
			c.OK, c.Pending = granted != grantMissing, granted == grantPending
		}
		return c
	}
	if len(near) > 0 {
		c.Detail = strings.Join(near, "; ")
		return c
	}
	c.Detail = fmt.Sprintf("no HTTPS listener on port 443 covers %s: Cloudflare's requests for it fail (526 under Full (strict))", host)
	return c
}

// hostnameCovers applies the Gateway API's listener hostname matching: an
// empty hostname matches every host, "*.example.com" every host below it.
func hostnameCovers(listener, host string) bool {
	switch {
	case listener == "":
		return true
	case strings.HasPrefix(listener, "*."):
		return strings.HasSuffix(host, listener[1:])
	default:
		return strings.EqualFold(listener, host)
	}
}

// servesOriginCert reports whether a listener's certificateRefs name the
// origin certificate Secret.
func (p *Provider) servesOriginCert(gw *unstructured.Unstructured, l map[string]any) bool {
	refs, _, _ := unstructured.NestedSlice(l, "tls", "certificateRefs")
	for _, r := range refs {
		m, _ := r.(map[string]any)
		ns := str(m["namespace"])
		if ns == "" {
			ns = gw.GetNamespace()
		}
		kind := str(m["kind"])
		if (kind == "" || kind == "Secret") && str(m["group"]) == "" && str(m["name"]) == tlsSecret && ns == p.st.Spec.Workload.Namespace {
			return true
		}
	}
	return false
}

// admitsRoutes reports whether a listener accepts routes from the workload
// namespace (allowedRoutes.namespaces; a selector is matched on labels).
func (p *Provider) admitsRoutes(gw *unstructured.Unstructured, l map[string]any) bool {
	ns := p.st.Spec.Workload.Namespace
	from, _, _ := unstructured.NestedString(l, "allowedRoutes", "namespaces", "from")
	switch from {
	case "All":
		return true
	case "Selector":
		sel, _, _ := unstructured.NestedStringMap(l, "allowedRoutes", "namespaces", "selector", "matchLabels")
		// The namespace nekoctl creates carries only its own labels and the
		// standard name label.
		labels := map[string]string{"kubernetes.io/metadata.name": ns}
		for k, v := range sel {
			if labels[k] != v {
				return false
			}
		}
		return len(sel) > 0
	default: // Same
		return gw.GetNamespace() == ns
	}
}

// grant is whether the Gateway may use the certificate Secret.
type grant int

const (
	grantSameNamespace grant = iota
	grantPresent
	grantPending // nekoctl's ReferenceGrant is created by up
	grantMissing
)

func (g grant) note() string {
	switch g {
	case grantPresent:
		return " (granted by ReferenceGrant)"
	case grantPending:
		return " (the ReferenceGrant is created by up)"
	case grantMissing:
		return ", but no ReferenceGrant lets the Gateway read it"
	}
	return ""
}

// certificateGranted looks for a ReferenceGrant in the workload namespace
// that lets Gateways of the Gateway's namespace read the origin Secret.
func (p *Provider) certificateGranted(ctx context.Context, r liveReads, gw *unstructured.Unstructured) grant {
	ns := p.st.Spec.Workload.Namespace
	if gw.GetNamespace() == ns {
		return grantSameNamespace
	}
	l, err := r.list(ctx, referenceGrantGVR, "ReferenceGrant", ns)
	if err != nil {
		return grantPending
	}
	for _, g := range l {
		if grants(&g, gw.GetNamespace()) {
			return grantPresent
		}
	}
	// The templates hold the grant whenever the origin certificate is on.
	return grantPending
}

func grants(g *unstructured.Unstructured, gwNamespace string) bool {
	from, _, _ := unstructured.NestedSlice(g.Object, "spec", "from")
	to, _, _ := unstructured.NestedSlice(g.Object, "spec", "to")
	okFrom, okTo := false, false
	for _, f := range from {
		m, _ := f.(map[string]any)
		okFrom = okFrom || (str(m["group"]) == "gateway.networking.k8s.io" && str(m["kind"]) == "Gateway" && str(m["namespace"]) == gwNamespace)
	}
	for _, t := range to {
		m, _ := t.(map[string]any)
		okTo = okTo || (str(m["group"]) == "" && str(m["kind"]) == "Secret" && (str(m["name"]) == "" || str(m["name"]) == tlsSecret))
	}
	return okFrom && okTo
}

// clientAuthCheck reports whether the Gateway requires a client
// certificate on 443 (Gateway API frontend TLS validation): without it,
// anyone who finds the address bypasses Cloudflare.
func clientAuthCheck(subject string, gw *unstructured.Unstructured) exposureCheck {
	refs, mode := frontendValidation(gw, 443)
	c := exposureCheck{Subject: subject, Advisory: true}
	switch {
	case len(refs) == 0:
		c.Detail = "does not validate client certificates on 443: anyone who finds the address reaches the API without Cloudflare"
	case mode == "AllowInsecureFallback":
		c.Detail = fmt.Sprintf("validates client certificates on 443 against %s but lets clients without one through (AllowInsecureFallback)", strings.Join(refs, ", "))
	default:
		c.OK, c.Detail = true, fmt.Sprintf("requires client certificates on 443 signed by %s", strings.Join(refs, ", "))
	}
	return c
}

// frontendValidation returns the CA references and mode that apply to a
// port: the per-port entry when there is one, else the default.
func frontendValidation(gw *unstructured.Unstructured, port int64) ([]string, string) {
	v, _, _ := unstructured.NestedMap(gw.Object, "spec", "tls", "frontend", "default", "validation")
	perPort, _, _ := unstructured.NestedSlice(gw.Object, "spec", "tls", "frontend", "perPort")
	for _, pp := range perPort {
		m, _ := pp.(map[string]any)
		if n, _, _ := unstructured.NestedInt64(m, "port"); n == port {
			v, _, _ = unstructured.NestedMap(m, "tls", "validation")
		}
	}
	refs, _, _ := unstructured.NestedSlice(v, "caCertificateRefs")
	var out []string
	for _, r := range refs {
		m, _ := r.(map[string]any)
		ns := str(m["namespace"])
		if ns == "" {
			ns = gw.GetNamespace()
		}
		out = append(out, fmt.Sprintf("%s %s/%s", str(m["kind"]), ns, str(m["name"])))
	}
	sort.Strings(out)
	return out, str(v["mode"])
}

// routeCheck reads the HTTPRoute's status for the Gateway: Accepted and
// ResolvedRefs as the Gateway's controller reports them.
func (p *Provider) routeCheck(ctx context.Context, lr liveReads, gw *unstructured.Unstructured) (exposureCheck, error) {
	ns := p.st.Spec.Workload.Namespace
	c := exposureCheck{Subject: fmt.Sprintf("HTTPRoute %s/%s", ns, AppName)}
	r, err := lr.get(ctx, httpRouteGVR, "HTTPRoute", ns, AppName)
	switch {
	case apierrors.IsNotFound(err):
		c.Pending, c.Detail = true, "created by up"
		return c, nil
	case err != nil:
		return c, fmt.Errorf("reading %s: %s", c.Subject, apiMessage(err))
	}
	parents, _, _ := unstructured.NestedSlice(r.Object, "status", "parents")
	for _, ps := range parents {
		m, _ := ps.(map[string]any)
		ref, _, _ := unstructured.NestedMap(m, "parentRef")
		refNS := str(ref["namespace"])
		if refNS == "" {
			refNS = ns
		}
		if str(ref["name"]) != gw.GetName() || refNS != gw.GetNamespace() {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(m, "conditions")
		accepted, resolved := condition(conds, "Accepted"), condition(conds, "ResolvedRefs")
		// A controller that leaves observedGeneration out is taken as current.
		stale := accepted.generation != 0 && accepted.generation < r.GetGeneration()
		switch {
		case accepted.status == "False" && !stale:
			c.Reason, c.Detail = accepted.reason, fmt.Sprintf("not accepted by %s/%s: %s", gw.GetNamespace(), gw.GetName(), accepted.text())
			return c, nil
		case resolved.status == "False" && !stale:
			c.Reason, c.Detail = resolved.reason, fmt.Sprintf("references not resolved: %s", resolved.text())
			return c, nil
		case accepted.status == "True" && resolved.status == "True" && !stale:
			c.OK, c.Detail = true, fmt.Sprintf("accepted by %s/%s, references resolved", gw.GetNamespace(), gw.GetName())
			return c, nil
		}
	}
	c.Pending, c.Detail = true, fmt.Sprintf("%s/%s's controller has not reported on the route's current generation yet", gw.GetNamespace(), gw.GetName())
	return c, nil
}

// cond is one status condition.
type cond struct {
	status, reason, message string
	generation              int64
}

func (c cond) text() string {
	if c.message == "" {
		return c.reason
	}
	return c.reason + ": " + c.message
}

func condition(conds []any, typ string) cond {
	for _, x := range conds {
		m, _ := x.(map[string]any)
		if str(m["type"]) == typ {
			g, _, _ := unstructured.NestedInt64(m, "observedGeneration")
			return cond{status: str(m["status"]), reason: str(m["reason"]), message: str(m["message"]), generation: g}
		}
	}
	return cond{}
}

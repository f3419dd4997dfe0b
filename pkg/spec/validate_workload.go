package spec

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// dnsSubdomainRE is a Kubernetes object name (RFC 1123 subdomain).
	dnsSubdomainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)
	imageRE        = regexp.MustCompile(`^[a-z0-9]+([._/:-][a-z0-9]+)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)
	// reservedEnv are set by nekoctl from the stack; the spec cannot override them.
	reservedEnv = []string{"MONGODB_URI", "REDIS_ADDR", "REDIS_PASSWORD", "JWT_SECRET", "JWT_KEYS", "JWT_KEYS_FILE"}
)

func (v *validator) workload() {
	w := &v.st.Spec.Workload
	const p = "spec.workload"
	if !imageRE.MatchString(w.Image) {
		v.errorf(p+".image", "%q is not an image reference (repository[:tag][@sha256:digest])", w.Image)
	} else {
		v.image()
	}
	if !dnsLabelRE.MatchString(w.Namespace) {
		v.errorf(p+".namespace", "%q is not a valid namespace name", w.Namespace)
	}
	for name := range w.Env {
		ep := p + ".env." + name
		switch {
		case !envNameRE.MatchString(name):
			v.errorf(ep, "%q is not a valid environment variable name", name)
		case isReservedEnv(name):
			v.errorf(ep, "%s is set by nekoctl from the stack and cannot be overridden", name)
		case looksSecret(name):
			v.warnf(ep, "%s looks like a secret: plain env values are stored in a ConfigMap; use workload.secrets", name)
		}
	}
	for i, s := range w.Secrets {
		sp := fmt.Sprintf("%s.secrets[%d]", p, i)
		if !envNameRE.MatchString(s.Env) {
			v.errorf(sp+".env", "%q is not a valid environment variable name", s.Env)
		}
		if !dnsLabelRE.MatchString(s.Secret) {
			v.errorf(sp+".secret", "%q is not a valid Secret name", s.Secret)
		}
		if s.Key == "" {
			v.errorf(sp+".key", "is required")
		}
	}
	if err := checkQuantity(w.Redis.Memory); err != nil {
		v.errorf(p+".redis.memory", "%v", err)
	}
	if err := checkQuantity(w.Redis.Storage); err != nil {
		v.errorf(p+".redis.storage", "%v", err)
	}
	if si := w.Monitoring.ScrapeInterval; si.Duration <= 0 {
		v.errorf(p+".monitoring.scrapeInterval", "must be positive")
	}
	switch w.Exposure.Type {
	case "gateway":
		if !dnsLabelRE.MatchString(w.Exposure.Gateway.Name) || !dnsLabelRE.MatchString(w.Exposure.Gateway.Namespace) {
			v.errorf(p+".exposure.gateway", "name and namespace must be valid Kubernetes names")
		}
		v.ownedGateway(p+".exposure.gateway", w)
	case "ingress":
		v.warnf(p+".exposure.type", "the community ingress-nginx controller was retired in March 2026; prefer Gateway API (type: gateway) where the cluster supports it")
		if w.Exposure.Ingress.ClassName == "" {
			v.errorf(p+".exposure.ingress.className", "is required with type ingress")
		}
	default:
		v.errorf(p+".exposure.type", "%q must be gateway or ingress", w.Exposure.Type)
	}
	if !On(v.st.Spec.Cloudflare.SSL.AuthenticatedOriginPulls) {
		v.warnf("spec.cloudflare.ssl.authenticatedOriginPulls", "is off: every region's origin accepts any client, so anyone who finds its address bypasses Cloudflare's WAF, rate limits and cache")
	}
	for i, c := range w.Exposure.TrustedProxyCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			v.errorf(fmt.Sprintf("%s.exposure.trustedProxyCIDRs[%d]", p, i), "%q is not a CIDR range", c)
		}
	}
	for i, o := range w.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://localhost") {
			v.errorf(fmt.Sprintf("%s.corsOrigins[%d]", p, i), "%q must be an https origin", o)
		}
	}
}

// ownedGateway checks the fields of a Gateway nekoctl creates.
func (v *validator) ownedGateway(p string, w *Workload) {
	g := w.Exposure.Gateway
	if !On(g.Create) {
		if g.ClassName != "" {
			v.warnf(p+".gatewayClassName", "is used only with create: true; the existing Gateway keeps its class")
		}
		return
	}
	if g.ClassName == "" {
		v.errorf(p+".gatewayClassName", "is required with create: true")
	} else if !dnsSubdomainRE.MatchString(g.ClassName) {
		v.errorf(p+".gatewayClassName", "%q is not a valid GatewayClass name", g.ClassName)
	}
	if !On(v.st.Spec.Cloudflare.OriginCert.Enabled) {
		v.errorf(p+".create", "needs cloudflare.originCertificate.enabled: the HTTPS listener serves the origin certificate")
	}
	if g.Namespace != w.Namespace {
		v.errorf(p+".namespace", "a Gateway nekoctl creates lives in the workload namespace %q, not %q", w.Namespace, g.Namespace)
	}
	if g.SectionName != "" {
		v.errorf(p+".sectionName", "nekoctl attaches the route to the HTTPS listeners of the Gateway it creates; leave sectionName empty")
	}
}

func isReservedEnv(name string) bool {
	for _, r := range reservedEnv {
		if r == name {
			return true
		}
	}
	return false
}

func looksSecret(name string) bool {
	u := strings.ToUpper(name)
	return strings.Contains(u, "PASSWORD") || strings.Contains(u, "SECRET") || strings.Contains(u, "TOKEN") || strings.HasSuffix(u, "_KEY")
}

func checkQuantity(q string) error {
	if _, err := resource.ParseQuantity(q); err != nil {
		return fmt.Errorf("%q is not a Kubernetes quantity (e.g. 250m, 1, 512Mi)", q)
	}
	return nil
}

package kubernetes

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var nsGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// Read returns the live objects of this stack's inventory in the region:
// the workload namespace when it carries the stack's labels, and every
// object labelled part of the stack's ApplySet. It publishes the region's
// public address, the database password held in the Atlas Secret and the
// origin certificate and key held in the TLS Secret.
func (p *Provider) Read(ctx context.Context, out provider.Outputs) ([]provider.Resource, error) {
	if err := p.clients(); err != nil {
		return nil, err
	}
	res, err := p.read(ctx)
	if err != nil {
		return nil, p.readError(err)
	}
	if out != nil {
		ns := p.st.Spec.Workload.Namespace
		for _, r := range res {
			if r.Address.Kind != "Secret" {
				continue
			}
			data, _ := r.Doc["data"].(map[string]any)
			switch r.Address.Name {
			case ns + "/" + atlasSecret:
				publish(out, provider.OutDBPassword, data["MONGODB_PASSWORD"])
			case ns + "/" + tlsSecret:
				// The origin key lives only here; Cloudflare keeps the
				// certificate when the key it was issued for comes back.
				publish(out, provider.OutOriginCert, data["tls.crt"])
				publish(out, provider.OutOriginKey, data["tls.key"])
			}
		}
		if addr, err := p.publicAddress(ctx); err == nil && addr != "" {
			out.Set(fmt.Sprintf(provider.OutIngressAddress, p.region), addr)
		}
	}
	return res, nil
}

// publish hands a non-empty secret value found in a live Secret to the
// other providers.
func publish(out provider.Outputs, key string, v any) {
	if s, ok := v.(plan.Sensitive); ok && s.Reveal() != "" {
		out.Set(key, s)
	}
}

func (p *Provider) readError(err error) error {
	if isUnreachable(err) {
		return p.wrap(fmt.Errorf("API server unreachable: %w", err))
	}
	return p.wrap(err)
}

func (p *Provider) read(ctx context.Context) ([]provider.Resource, error) {
	var res []provider.Resource
	ns := p.st.Spec.Workload.Namespace
	nsObj, err := p.dyn.Resource(nsGVR).Get(ctx, ns, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	if p.owned(nsObj) && nsObj.GetDeletionTimestamp() == nil {
		res = append(res, p.resource(nsObj))
	}
	parent, err := p.readParent(ctx)
	if err != nil {
		return nil, err
	}
	members, err := p.listMembers(ctx, parent)
	if err != nil {
		return nil, err
	}
	for _, m := range members {
		res = append(res, p.resource(m))
	}
	return res, nil
}

func (p *Provider) resource(u *unstructured.Unstructured) provider.Resource {
	return provider.Resource{
		Address: p.address(u.GetKind(), u.GetNamespace(), u.GetName()),
		ID:      string(u.GetUID()),
		Doc:     liveDoc(u),
	}
}

// publicAddress is the region's address for the Cloudflare pool: the
// spec's override, else the Gateway's first status address, else the
// Ingress's load-balancer address. Empty when not (yet) reported.
func (p *Provider) publicAddress(ctx context.Context) (string, error) {
	r := p.st.Spec.Region(p.region)
	if r != nil && r.IngressAddress != "" {
		return r.IngressAddress, nil
	}
	e := p.st.Spec.Workload.Exposure
	if e.Type == "ingress" {
		u, err := p.dyn.Resource(schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}).
			Namespace(p.st.Spec.Workload.Namespace).Get(ctx, AppName, metav1.GetOptions{})
		if err != nil {
			return "", err
		}
		lbs, _, _ := unstructured.NestedSlice(u.Object, "status", "loadBalancer", "ingress")
		for _, lb := range lbs {
			m, _ := lb.(map[string]any)
			if ip, _ := m["ip"].(string); ip != "" {
				return ip, nil
			}
			if h, _ := m["hostname"].(string); h != "" {
				return h, nil
			}
		}
		return "", nil
	}
	u, err := p.dyn.Resource(schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}).
		Namespace(e.Gateway.Namespace).Get(ctx, e.Gateway.Name, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	addrs, _, _ := unstructured.NestedSlice(u.Object, "status", "addresses")
	for _, a := range addrs {
		m, _ := a.(map[string]any)
		if v, _ := m["value"].(string); v != "" {
			return v, nil
		}
	}
	return "", nil
}

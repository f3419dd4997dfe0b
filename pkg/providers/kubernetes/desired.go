package kubernetes

import (
	"context"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Desired returns the region's objects from the templates. It needs no
// cluster. Secret values come from in (plan.Unknown until the producing
// provider has applied); generated secrets are plan.Unknown and resolved at
// apply time, keeping the live value when there is one.
func (p *Provider) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	kp := keyPolicy{Now: p.opts.Now().UTC(), Rotate: p.opts.RotateJWTKey}
	docs, err := objects(p.st, p.region, in, kp, p.opts.ReceiverSecrets, rendered)
	if err != nil {
		return nil, p.wrap(err)
	}
	if p.mutate != nil {
		p.mutate(docs)
	}
	ns := p.st.Spec.Workload.Namespace
	nsAddr := p.address("Namespace", "", ns)
	out := make([]provider.Resource, 0, len(docs))
	for _, d := range docs {
		kind, name, namespace := kindOf(d), nameOf(d), namespaceOf(d)
		r := provider.Resource{Address: p.address(kind, namespace, name), Doc: d}
		if namespace != "" {
			r.DependsOn = append(r.DependsOn, nsAddr)
		}
		switch kind {
		case "Secret":
			if name == authSecret && p.isPrimary() {
				// The other regions' auth Secrets wait for the values this
				// one settles.
				r.Produces = []string{StackSecretKey(keyJWTKeys), StackSecretKey(keyAdminPassword)}
				_, _, r.Notes = sharedValues(p.st, in, kp)
			}
		case "Deployment":
			r.DependsOn = append(r.DependsOn,
				p.address("ServiceAccount", ns, AppName), p.address("ConfigMap", ns, AppName+"-config"),
				p.address("Secret", ns, atlasSecret), p.address("Secret", ns, authSecret))
			if on(p.st.Spec.Workload.Redis.Enabled) {
				r.DependsOn = append(r.DependsOn, p.address("Secret", ns, RedisName), p.address("StatefulSet", ns, RedisName))
			}
			r.ReplaceOn = []string{"spec.selector"}
		case "StatefulSet":
			r.DependsOn = append(r.DependsOn, p.address("ServiceAccount", ns, name), p.address("Secret", ns, name),
				p.address("Service", ns, name))
			r.ReplaceOn = []string{"spec.selector", "spec.serviceName", "spec.volumeClaimTemplates"}
		case "HorizontalPodAutoscaler", "PodDisruptionBudget":
			r.DependsOn = append(r.DependsOn, p.address("Deployment", ns, AppName))
		case "HTTPRoute", "Ingress":
			r.DependsOn = append(r.DependsOn, p.address("Service", ns, AppName))
			if g := p.st.Spec.Workload.Exposure.Gateway; on(g.Create) && kind == "HTTPRoute" {
				r.DependsOn = append(r.DependsOn, p.address("Gateway", ns, g.Name))
			}
			if name == AppName {
				r.Produces = []string{fmt.Sprintf(provider.OutIngressAddress, p.region)}
			}
		case "Gateway":
			r.DependsOn = append(r.DependsOn, p.address("Secret", ns, tlsSecret))
			if hasOriginPull(docs, "ConfigMap") {
				r.DependsOn = append(r.DependsOn, p.address("ConfigMap", ns, originPullName))
			}
		}
		if kind == "Ingress" && hasOriginPull(docs, "Secret") {
			r.DependsOn = append(r.DependsOn, p.address("Secret", ns, originPullName))
		}
		out = append(out, r)
	}
	return p.withRelease(out), nil
}

func on(b *bool) bool { return b != nil && *b }

// address names an object: "namespace/name", or "name" when cluster-scoped.
func (p *Provider) address(kind, namespace, name string) plan.Address {
	n := name
	if namespace != "" {
		n = namespace + "/" + name
	}
	return plan.Address{Provider: Name, Scope: "region/" + p.region, Region: p.region, Kind: kind, Name: n}
}

// PlanInputs: the Secrets hold the connection string and password the
// Atlas provider settles while planning, and the origin certificate and
// key the Cloudflare provider settles (the certificate kept, or both marked
// as changing when a new one is issued) (provider.PlanInputs).
func (p *Provider) PlanInputs() []string {
	return []string{provider.OutMongoURI, provider.OutDBPassword, provider.OutOriginCert, provider.OutOriginKey}
}

// hasOriginPull reports whether the documents hold the origin-pull CA as kind.
func hasOriginPull(docs []plan.Document, kind string) bool {
	for _, d := range docs {
		if kindOf(d) == kind && nameOf(d) == originPullName {
			return true
		}
	}
	return false
}

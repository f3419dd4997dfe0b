package kubernetes

import (
	"context"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Status reports the rollout state of the region's Deployments and
// StatefulSets (the API's pods against its autoscaler and the image it
// runs), its public address, the origin certificate's expiry, how it is
// exposed and what its origin answers.
func (p *Provider) Status(ctx context.Context) ([]provider.Health, error) {
	if err := p.clients(); err != nil {
		return nil, err
	}
	snap, err := p.read(ctx)
	if err != nil {
		return nil, p.readError(err)
	}
	var out []provider.Health
	for _, r := range p.sortedObjects(snap) {
		m := snap.objects[r]
		if k := m.GetKind(); (k != "Deployment" && k != "StatefulSet") || !p.owned(m) {
			continue
		}
		res, err := status.Compute(m)
		h := provider.Health{Address: p.address(m.GetKind(), m.GetNamespace(), m.GetName()), Facts: p.workloadFacts(snap, m)}
		if err != nil {
			h.State, h.Detail = "Unknown", err.Error()
		} else {
			h.State, h.Healthy, h.Detail = string(res.Status), res.Status == status.CurrentStatus, res.Message
			if reason := rolloutFailure(m, res); reason != "" {
				h.Healthy, h.Detail = false, reason
			}
		}
		out = append(out, h)
	}
	addr, err := snap.address, snap.addressErr
	h := provider.Health{Address: p.address("PublicAddress", "", p.region), State: "Known", Healthy: addr != "", Detail: addr}
	if err != nil || addr == "" {
		h.State = "Unknown"
		if err != nil {
			h.Detail = apiMessage(err)
		}
	}
	out = append(out, h)
	if h, ok := p.certificateHealth(snap); ok {
		out = append(out, h)
	}
	out = append(out, p.monitoringHealth(ctx)...)
	return append(out, p.servingHealth(ctx)...), nil
}

package cloudflare

import (
	"context"
	"fmt"
	"net/http"
)

// PoolState is one region's pool as the load balancer sees it.
type PoolState struct {
	Region  string `json:"region"`
	Enabled bool   `json:"enabled"`
	Healthy bool   `json:"healthy"`
	Detail  string `json:"detail,omitempty"`
}

// PoolStates reads the stack's pools and the health Cloudflare's monitors
// report for each: one listing, then one health read per pool, at once.
func (p *Provider) PoolStates(ctx context.Context) ([]PoolState, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	pools, err := p.api.list(ctx, p.acctPath("pools"), nil)
	if err != nil {
		return nil, fmt.Errorf("listing pools: %w", apiErr(err))
	}
	var out []PoolState
	for _, h := range p.poolsHealth(ctx, p.ownPools(pools)) {
		out = append(out, PoolState{Region: h.Address.Name, Enabled: h.Pool.Enabled,
			Healthy: h.Pool.Locations > 0 && h.Pool.HealthyLocations == h.Pool.Locations, Detail: h.Detail})
	}
	return out, nil
}

// SetPoolEnabled enables or disables a region's pool, and only that field
// (Cloudflare's pool PATCH): a disabled pool gets no traffic, the load
// balancer steers to the next pool of each list. A drill's fault and its undo.
func (p *Provider) SetPoolEnabled(ctx context.Context, region string, enabled bool) error {
	if err := p.online(); err != nil {
		return err
	}
	ids, err := p.poolIDs(ctx, []string{region})
	if err != nil {
		return fmt.Errorf("listing pools: %w", apiErr(err))
	}
	id := ids[region]
	if id == "" {
		return fmt.Errorf("region %s has no pool of this stack: run 'nekoctl up' first", region)
	}
	if _, err := p.api.send(ctx, http.MethodPatch, p.acctPath("pools/"+id), map[string]any{"enabled": enabled}); err != nil {
		return fmt.Errorf("pool %s: setting enabled=%v: %w", region, enabled, apiErr(err))
	}
	return nil
}

package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// PoolState is one region's pool as the load balancer sees it.
type PoolState struct {
	Region  string `json:"region"`
	Enabled bool   `json:"enabled"`
	Healthy bool   `json:"healthy"`
	Detail  string `json:"detail,omitempty"`
}

// PoolStates reads the stack's pools and the health Cloudflare's monitors
// report for each: one listing and one health read per pool.
func (p *Provider) PoolStates(ctx context.Context) ([]PoolState, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	pools, err := p.api.list(ctx, p.acctPath("pools"), nil)
	if err != nil {
		return nil, fmt.Errorf("listing pools: %w", apiErr(err))
	}
	prefix := PoolName(p.st.Metadata.Name, "")
	var out []PoolState
	for _, pl := range pools {
		if str(pl, "description") != p.marker() || !strings.HasPrefix(str(pl, "name"), prefix) {
			continue
		}
		s := PoolState{Region: strings.TrimPrefix(str(pl, "name"), prefix), Enabled: pl["enabled"] != false}
		res, err := p.api.get(ctx, p.acctPath("pools/"+str(pl, "id")+"/health"))
		if err != nil {
			s.Detail = apiErr(err).Error()
		} else {
			healthy, total, bad := popHealth(res)
			s.Healthy = total > 0 && healthy == total
			if len(bad) > 0 {
				sort.Strings(bad)
				s.Detail = "failing from " + strings.Join(bad, ", ")
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Region < out[j].Region })
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

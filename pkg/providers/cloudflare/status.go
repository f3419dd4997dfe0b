package cloudflare

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Status implements provider.Statuser: the health of each region's pool as
// Cloudflare's monitors see it, and whether the load balancer exists.
func (p *Provider) Status(ctx context.Context) ([]provider.Health, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	zoneID, _, err := p.lookupZone(ctx)
	if err != nil {
		return nil, err
	}
	var out []provider.Health
	if !p.lbEnabled() {
		return nil, nil
	}
	lbs, err := p.api.list(ctx, "zones/"+zoneID+"/load_balancers", nil)
	if err != nil {
		return nil, fmt.Errorf("listing load balancers: %w", apiErr(err))
	}
	lb := findIn(lbs, func(o obj) bool { return str(o, "description") == p.marker() })
	h := provider.Health{Address: p.zoneAddr(KindLB, p.lbHost()), State: "missing"}
	if lb != nil {
		h.State, h.Healthy = "enabled", lb["enabled"] != false
		if !h.Healthy {
			h.State = "disabled"
		}
		h.Detail = fmt.Sprintf("steering %v, fallback %s", lb["steering_policy"], p.cf.LoadBalancer.FallbackRegion)
	}
	out = append(out, h)
	ids, err := p.poolIDs(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("listing pools: %w", apiErr(err))
	}
	regions := make([]string, 0, len(ids))
	for r := range ids {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		hh := provider.Health{Address: p.accountAddr(KindPool, r)}
		res, err := p.api.get(ctx, p.acctPath("pools/"+ids[r]+"/health"))
		if err != nil {
			hh.State, hh.Detail = "unknown", apiErr(err).Error()
			out = append(out, hh)
			continue
		}
		healthy, total, bad := popHealth(res)
		hh.Healthy = total > 0 && healthy == total
		hh.State = map[bool]string{true: "healthy", false: "unhealthy"}[hh.Healthy]
		hh.Detail = fmt.Sprintf("%d/%d checking locations report healthy", healthy, total)
		if len(bad) > 0 {
			sort.Strings(bad)
			hh.Detail += "; failing from " + strings.Join(bad, ", ")
		}
		out = append(out, hh)
	}
	return out, nil
}

// popHealth counts the checking locations of a pool health answer that
// report it healthy, and names those that do not.
func popHealth(res obj) (healthy, total int, bad []string) {
	if pops, ok := res["pop_health"].(obj); ok {
		for pop, v := range pops {
			total++
			if m, ok := v.(obj); ok && m["healthy"] == true {
				healthy++
			} else {
				bad = append(bad, pop)
			}
		}
	}
	return healthy, total, bad
}

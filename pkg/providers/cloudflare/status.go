package cloudflare

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Status implements provider.Statuser: the load balancer (enabled, its
// default and fallback pools named by region) and each region's pool (enabled,
// and its health as Cloudflare's checking locations report it). Reads: the
// zone, the load balancers and the pools at once, then every pool's health
// at once.
func (p *Provider) Status(ctx context.Context) ([]provider.Health, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	if !p.lbEnabled() {
		return nil, nil
	}
	zoneID, _, err := p.lookupZone(ctx)
	if err != nil {
		return nil, err
	}
	var lbs, pools []obj
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		if lbs, err = p.api.list(gctx, "zones/"+zoneID+"/load_balancers", nil); err != nil {
			return fmt.Errorf("listing load balancers: %w", apiErr(err))
		}
		return nil
	})
	g.Go(func() (err error) {
		if pools, err = p.api.list(gctx, p.acctPath("pools"), nil); err != nil {
			return fmt.Errorf("listing pools: %w", apiErr(err))
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	mine := p.ownPools(pools)
	out := append([]provider.Health{p.lbHealth(lbs, mine)}, p.poolsHealth(ctx, mine)...)
	for _, r := range p.st.Spec.Regions {
		if mine[r.Name] == nil {
			h := provider.Health{Address: p.accountAddr(KindPool, r.Name), State: "missing", Detail: "the region has no pool: run nekoctl up"}
			h.Address.Region = r.Name
			out = append(out, h)
		}
	}
	return out, nil
}

// poolsHealth reads every pool's health at once, in region order.
func (p *Provider) poolsHealth(ctx context.Context, pools map[string]obj) []provider.Health {
	regions := make([]string, 0, len(pools))
	for r := range pools {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	out := make([]provider.Health, len(regions))
	var g errgroup.Group
	for i, r := range regions {
		g.Go(func() error {
			out[i] = p.poolHealth(ctx, r, pools[r])
			return nil
		})
	}
	_ = g.Wait()
	return out
}

// ownPools are the stack's pools by region.
func (p *Provider) ownPools(pools []obj) map[string]obj {
	prefix := PoolName(p.st.Metadata.Name, "")
	out := map[string]obj{}
	for _, pl := range pools {
		if str(pl, "description") == p.marker() && strings.HasPrefix(str(pl, "name"), prefix) {
			if r := strings.TrimPrefix(str(pl, "name"), prefix); out[r] == nil {
				out[r] = pl
			}
		}
	}
	return out
}

// lbHealth is the stack's load balancer with its pools named by region.
func (p *Provider) lbHealth(lbs []obj, pools map[string]obj) provider.Health {
	h := provider.Health{Address: p.zoneAddr(KindLB, p.lbHost()), State: "missing"}
	lb := findIn(lbs, func(o obj) bool { return str(o, "description") == p.marker() })
	if lb == nil {
		return h
	}
	region := map[string]string{}
	for r, pl := range pools {
		region[str(pl, "id")] = r
	}
	name := func(id string) string {
		if r, ok := region[id]; ok {
			return r
		}
		return "pool " + id + " (not the stack's)"
	}
	facts := &provider.LoadBalancer{Enabled: lb["enabled"] != false, FallbackPool: name(str(lb, "fallback_pool")),
		DefaultPools: []string{}}
	ids, _ := lb["default_pools"].([]any)
	for _, id := range ids {
		facts.DefaultPools = append(facts.DefaultPools, name(fmt.Sprint(id)))
	}
	h.LoadBalancer, h.Healthy, h.State = facts, facts.Enabled, "enabled"
	if !facts.Enabled {
		h.State = "disabled"
	}
	h.Detail = fmt.Sprintf("steering %v, default pools %s, fallback %s", lb["steering_policy"],
		strings.Join(facts.DefaultPools, ", "), facts.FallbackPool)
	return h
}

// poolHealth asks Cloudflare for one pool's health. A disabled pool
// serves no traffic, so it is unhealthy whatever its origins answer.
func (p *Provider) poolHealth(ctx context.Context, region string, pl obj) provider.Health {
	facts := &provider.Pool{Enabled: pl["enabled"] != false}
	h := provider.Health{Address: p.accountAddr(KindPool, region), Facts: provider.Facts{Pool: facts}}
	h.Address.Region = region
	res, err := p.api.get(ctx, p.acctPath("pools/"+str(pl, "id")+"/health"))
	if err != nil {
		h.State, h.Detail = "unknown", apiErr(err).Error()
		return h
	}
	healthy, total, bad := popHealth(res)
	sort.Strings(bad)
	facts.HealthyLocations, facts.Locations, facts.Failing = healthy, total, bad
	h.Healthy = facts.Enabled && total > 0 && healthy == total
	h.Detail = fmt.Sprintf("%d/%d checking locations report healthy", healthy, total)
	if len(bad) > 0 {
		h.Detail += "; failing from " + strings.Join(bad, ", ")
	}
	switch {
	case !facts.Enabled:
		h.State, h.Detail = "disabled", "disabled (no traffic is sent to it); "+h.Detail
	case h.Healthy:
		h.State = "healthy"
	default:
		h.State = "unhealthy"
	}
	return h
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

package cloudflare

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// lbLists is one listing of the account's monitors and pools and the zone's
// load balancers.
type lbLists struct{ monitors, pools, lbs []obj }

func (p *Provider) listLB(ctx context.Context, st *liveState) (lbLists, error) {
	var l lbLists
	var err error
	if l.monitors, err = p.api.list(ctx, p.acctPath("monitors"), nil); err != nil {
		return l, fmt.Errorf("listing monitors: %w", apiErr(err))
	}
	if l.pools, err = p.api.list(ctx, p.acctPath("pools"), nil); err != nil {
		return l, fmt.Errorf("listing pools: %w", apiErr(err))
	}
	if l.lbs, err = p.api.list(ctx, p.zonePath(st, "load_balancers"), nil); err != nil {
		return l, fmt.Errorf("listing load balancers: %w", apiErr(err))
	}
	return l, nil
}

// readLB reads the stack's monitor, pools and load balancer. When runs that
// overlapped created an object twice, the one the rest of the stack uses is
// kept under its usual address (the pools the load balancer points at, the
// monitor those pools use) and every other copy gets an address of its own
// ("name#id"), which the diff plans as a delete with the reason.
func (p *Provider) readLB(ctx context.Context, st *liveState) ([]provider.Resource, error) {
	l, err := p.listLB(ctx, st)
	if err != nil {
		return nil, err
	}
	var lbs []obj
	used := map[string]bool{} // pool ids the stack's load balancer points at
	for _, lb := range l.lbs {
		if str(lb, "description") != p.marker() {
			continue
		}
		lbs = append(lbs, lb)
		if strings.EqualFold(str(lb, "name"), p.lbHost()) {
			for _, id := range poolRefs(lb) {
				used[id] = true
			}
		}
	}

	prefix := PoolName(p.st.Metadata.Name, "")
	byRegion := map[string][]obj{}
	var regions []string
	for _, pl := range l.pools {
		if str(pl, "description") != p.marker() || !strings.HasPrefix(str(pl, "name"), prefix) {
			st.foreignPools++
			continue
		}
		r := strings.TrimPrefix(str(pl, "name"), prefix)
		if byRegion[r] == nil {
			regions = append(regions, r)
		}
		byRegion[r] = append(byRegion[r], pl)
	}
	poolNames := map[string]string{} // id -> address name
	monUse := map[string]int{}       // monitor id -> primary pools using it
	for _, r := range regions {
		keep := pick(byRegion[r], func(o obj) bool { return used[str(o, "id")] })
		for i, pl := range byRegion[r] {
			id := str(pl, "id")
			if i == keep {
				poolNames[id] = r
				st.poolIDs[r] = id
				monUse[str(pl, "monitor")]++
				continue
			}
			poolNames[id] = dupName(r, id)
			st.dups[p.accountAddr(KindPool, dupName(r, id))] = fmt.Sprintf(
				"a second pool for region %s (created by runs that overlapped); the load balancer uses pool %s", r, str(byRegion[r][keep], "id"))
		}
	}

	var mons []obj
	for _, m := range l.monitors {
		if str(m, "description") == p.marker() {
			mons = append(mons, m)
		}
	}
	keepMon := pickMost(mons, func(o obj) int { return monUse[str(o, "id")] })
	var out []provider.Resource
	monNames := map[string]string{}
	for i, m := range mons {
		id, name := str(m, "id"), monitorName
		if i == keepMon {
			st.monitorID = id
		} else {
			name = dupName(monitorName, id)
			st.dups[p.accountAddr(KindMonitor, name)] = fmt.Sprintf(
				"a second health monitor of this stack (created by runs that overlapped); the pools use monitor %s", str(mons[keepMon], "id"))
		}
		monNames[id] = name
		doc := plan.Document{}
		for _, k := range []string{"type", "method", "path", "port", "expected_codes", "interval", "timeout", "retries", "header", "follow_redirects", "allow_insecure", "description"} {
			doc[k] = m[k]
		}
		out = append(out, provider.Resource{Address: p.accountAddr(KindMonitor, name), ID: id, Doc: doc, Fingerprint: str(m, "modified_on")})
	}

	for _, pl := range l.pools {
		id := str(pl, "id")
		name, ok := poolNames[id]
		if !ok {
			continue
		}
		mon := str(pl, "monitor")
		if n, ok := monNames[mon]; ok {
			mon = n
		}
		var origins []any
		for _, o := range asList(pl["origins"]) {
			if om, ok := o.(obj); ok {
				origins = append(origins, plan.Document{"name": om["name"], "address": om["address"], "enabled": om["enabled"], "weight": om["weight"]})
			}
		}
		out = append(out, provider.Resource{Address: p.accountAddr(KindPool, name), ID: id, Fingerprint: str(pl, "modified_on"), Doc: plan.Document{
			"name": str(pl, "name"), "description": str(pl, "description"), "enabled": pl["enabled"],
			"minimum_origins": pl["minimum_origins"], "monitor": mon, "origins": origins,
		}})
	}

	names := func(v any) []any {
		var out []any
		for _, id := range asList(v) {
			if n, ok := poolNames[fmt.Sprint(id)]; ok {
				out = append(out, n)
			} else {
				out = append(out, id)
			}
		}
		return out
	}
	for _, lb := range lbs {
		rp := plan.Document{}
		if m, ok := lb["region_pools"].(obj); ok {
			for k, v := range m {
				rp[k] = names(v)
			}
		}
		fb := str(lb, "fallback_pool")
		if n, ok := poolNames[fb]; ok {
			fb = n
		}
		out = append(out, provider.Resource{Address: p.zoneAddr(KindLB, str(lb, "name")), ID: str(lb, "id"), Fingerprint: str(lb, "modified_on"), Doc: plan.Document{
			"name": str(lb, "name"), "description": str(lb, "description"), "enabled": lb["enabled"], "proxied": lb["proxied"],
			"steering_policy": lb["steering_policy"], "session_affinity": lb["session_affinity"],
			"fallback_pool": fb, "default_pools": names(lb["default_pools"]), "region_pools": rp,
		}})
	}
	return out, nil
}

// poolRefs lists every pool id a load balancer points at.
func poolRefs(lb obj) []string {
	var ids []string
	add := func(v any) {
		for _, id := range asList(v) {
			ids = append(ids, fmt.Sprint(id))
		}
	}
	add(lb["default_pools"])
	if fb := str(lb, "fallback_pool"); fb != "" {
		ids = append(ids, fb)
	}
	if m, ok := lb["region_pools"].(obj); ok {
		for _, v := range m {
			add(v)
		}
	}
	return ids
}

// dupName is the address name of an extra copy of an owned object.
func dupName(name, id string) string { return name + "#" + id }

// pick returns the index of the first item in use, else 0 (the first listed).
func pick(items []obj, inUse func(obj) bool) int {
	if i := slices.IndexFunc(items, inUse); i >= 0 {
		return i
	}
	return 0
}

// pickMost returns the index of the item with the highest use, the first on a tie.
func pickMost(items []obj, use func(obj) int) int {
	best := 0
	for i, o := range items {
		if use(o) > use(items[best]) {
			best = i
		}
	}
	return best
}

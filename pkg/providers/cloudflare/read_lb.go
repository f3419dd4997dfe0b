package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// lbLists is one listing of the account's monitors and pools and the zone's
// load balancers.
type lbLists struct{ monitors, pools, lbs []obj }

// listAccountLB lists the account's monitors and pools, at once.
func (p *Provider) listAccountLB(ctx context.Context, l *lbLists) error {
	var monErr, poolErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		if l.monitors, monErr = p.api.list(ctx, p.acctPath("monitors"), nil); monErr != nil {
			monErr = fmt.Errorf("listing monitors: %w", apiErr(monErr))
		}
	})
	wg.Go(func() {
		if l.pools, poolErr = p.api.list(ctx, p.acctPath("pools"), nil); poolErr != nil {
			poolErr = fmt.Errorf("listing pools: %w", apiErr(poolErr))
		}
	})
	wg.Wait()
	return errors.Join(monErr, poolErr)
}

// readLB reads the stack's monitor, pools and load balancer. When runs that
// overlapped created an object twice, the one the rest of the stack uses is
// kept under its usual address (the pools the load balancer points at, the
// monitor those pools use) and every other copy gets an address of its own
// ("name#id"), which the diff plans as a delete with the reason. Objects
// made by hand with the stack's identity (see handMade) are read Unowned.
// It makes no call: l holds the account's and the zone's listings.
func (p *Provider) readLB(st *liveState, l *lbLists) []provider.Resource {
	hm := handMade{}
	var lbs []obj
	used := map[string]bool{} // pool ids the stack's load balancer points at
	for _, lb := range l.lbs {
		mine := strings.EqualFold(str(lb, "name"), p.lbHost())
		if str(lb, "description") != p.marker() {
			if !mine {
				continue
			}
			// The name is unique in the zone: this is the stack's load
			// balancer, made without nekoctl.
			hm[str(lb, "id")] = true
		}
		lbs = append(lbs, lb)
		if mine {
			for _, id := range poolRefs(lb) {
				used[id] = true
			}
		}
	}

	poolNames, monUse := p.stackPools(st, l.pools, used, hm)
	mons := p.stackMonitors(l.monitors, monUse, hm)
	keepMon := pickMost(mons, func(o obj) int { return monUse[str(o, "id")] })
	var out []provider.Resource
	monNames := map[string]string{}
	for i, m := range mons {
		id, name := str(m, "id"), monitorName
		if i == keepMon {
			st.monitorID = id
		} else {
			name = dupName(monitorName, id)
			p.addDup(st, p.accountAddr(KindMonitor, name), fmt.Sprintf(
				"a second health monitor of this stack (created by runs that overlapped); the pools use monitor %s", str(mons[keepMon], "id")))
		}
		monNames[id] = name
		doc := plan.Document{}
		for _, k := range []string{"type", "method", "path", "port", "expected_codes", "interval", "timeout", "retries", "header", "follow_redirects", "allow_insecure", "description"} {
			doc[k] = m[k]
		}
		out = append(out, provider.Resource{Address: p.accountAddr(KindMonitor, name), ID: id, Doc: doc, Fingerprint: str(m, "modified_on"),
			Unowned: hm[id]})
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
		out = append(out, provider.Resource{Address: p.accountAddr(KindPool, name), ID: id, Fingerprint: str(pl, "modified_on"), Unowned: hm[id],
			Doc: plan.Document{
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
		out = append(out, provider.Resource{Address: p.zoneAddr(KindLB, str(lb, "name")), ID: str(lb, "id"), Fingerprint: str(lb, "modified_on"),
			Unowned: hm[str(lb, "id")], Doc: plan.Document{
				"name": str(lb, "name"), "description": str(lb, "description"), "enabled": lb["enabled"], "proxied": lb["proxied"],
				"steering_policy": lb["steering_policy"], "session_affinity": lb["session_affinity"],
				"fallback_pool": fb, "default_pools": names(lb["default_pools"]), "region_pools": rp,
			}})
	}
	return out
}

// handMade holds the ids of objects read with the stack's identity but
// without its marker: they are read Unowned (a conflict, or adopted with
// --adopt).
type handMade map[string]bool

// stackPools picks the stack's pool of each region: owned pools first (the
// one the load balancer uses, else the first listed; other copies are
// duplicates), else a pool made by hand with the name nekoctl gives it. It
// returns the address name of every pool it picked, by id, and how many
// picked pools use each monitor.
func (p *Provider) stackPools(st *liveState, pools []obj, used map[string]bool, hm handMade) (map[string]string, map[string]int) {
	prefix := PoolName(p.st.Metadata.Name, "")
	owned, unowned := map[string][]obj{}, map[string][]obj{}
	var regions []string
	for _, pl := range pools {
		name := str(pl, "name")
		r, ok := strings.CutPrefix(name, prefix)
		switch {
		case ok && str(pl, "description") == p.marker():
			owned[r] = append(owned[r], pl)
		case ok && p.st.Spec.Region(r) != nil:
			unowned[r] = append(unowned[r], pl)
		default:
			st.foreignPools++
			continue
		}
		if !slices.Contains(regions, r) {
			regions = append(regions, r)
		}
	}
	poolNames := map[string]string{} // id -> address name
	monUse := map[string]int{}       // monitor id -> primary pools using it
	for _, r := range regions {
		list, others := owned[r], unowned[r]
		if len(list) == 0 {
			list, others = others[:1], others[1:]
			hm[str(list[0], "id")] = true
		}
		st.foreignPools += len(others)
		keep := pick(list, func(o obj) bool { return used[str(o, "id")] })
		for i, pl := range list {
			id := str(pl, "id")
			if i == keep {
				poolNames[id] = r
				st.poolIDs[r] = id
				monUse[str(pl, "monitor")]++
				continue
			}
			poolNames[id] = dupName(r, id)
			p.addDup(st, p.accountAddr(KindPool, dupName(r, id)), fmt.Sprintf(
				"a second pool for region %s (created by runs that overlapped); the load balancer uses pool %s", r, str(list[keep], "id")))
		}
	}
	return poolNames, monUse
}

// stackMonitors returns the stack's owned monitors; when it owns none, the
// monitor made by hand that its pools use (a monitor has no name), else
// one that checks the stack's hostname, read as its monitor.
func (p *Provider) stackMonitors(monitors []obj, monUse map[string]int, hm handMade) []obj {
	var mons []obj
	for _, m := range monitors {
		if str(m, "description") == p.marker() {
			mons = append(mons, m)
		}
	}
	if len(mons) > 0 || !p.lbEnabled() {
		return mons
	}
	var best obj
	for _, m := range monitors {
		if _, other := otherStack(str(m, "description")); other {
			continue
		}
		switch {
		case monUse[str(m, "id")] > 0 && (best == nil || monUse[str(m, "id")] > monUse[str(best, "id")]):
			best = m
		case best == nil && checksHost(m, p.lbHost()):
			best = m
		}
	}
	if best == nil {
		return nil
	}
	hm[str(best, "id")] = true
	return []obj{best}
}

// checksHost reports whether a monitor sends host as its Host header.
func checksHost(m obj, host string) bool {
	h, _ := m["header"].(obj)
	for _, v := range asList(h["Host"]) {
		if strings.EqualFold(fmt.Sprint(v), host) {
			return true
		}
	}
	return false
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

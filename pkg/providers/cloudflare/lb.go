package cloudflare

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// inPlace reports whether a change writes over the live object: an update,
// or an adoption, whose full body also carries the stack's marker.
func inPlace(a plan.Action) bool { return a == plan.Update || a == plan.Adopt }

func (p *Provider) applyMonitor(ctx context.Context, c plan.Change, doc plan.Document) error {
	if inPlace(c.Action) {
		_, err := p.api.send(ctx, http.MethodPut, p.acctPath("monitors/"+c.ID), doc)
		return err
	}
	o, err := p.create(ctx, c.Address,
		func() (obj, error) { return p.api.send(ctx, http.MethodPost, p.acctPath("monitors"), doc) },
		func() (obj, error) {
			ms, err := p.api.list(ctx, p.acctPath("monitors"), nil)
			return findIn(ms, func(o obj) bool { return str(o, "description") == p.marker() }), err
		})
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.state.monitorID = str(o, "id")
	p.mu.Unlock()
	return nil
}

// monitorID returns the id of the stack's monitor, listing when not known.
func (p *Provider) monitorID(ctx context.Context) (string, error) {
	p.mu.Lock()
	id := p.state.monitorID
	p.mu.Unlock()
	if id != "" {
		return id, nil
	}
	ms, err := p.api.list(ctx, p.acctPath("monitors"), nil)
	if err != nil {
		return "", err
	}
	if m := findIn(ms, func(o obj) bool { return str(o, "description") == p.marker() }); m != nil {
		p.mu.Lock()
		p.state.monitorID = str(m, "id")
		p.mu.Unlock()
		return str(m, "id"), nil
	}
	return "", fmt.Errorf("the stack's health monitor does not exist yet")
}

// poolIDs returns region -> pool id for the stack's pools, listing the
// pools when a wanted region is not known.
func (p *Provider) poolIDs(ctx context.Context, want []string) (map[string]string, error) {
	p.mu.Lock()
	ids := maps.Clone(p.state.poolIDs)
	p.mu.Unlock()
	if ids == nil {
		ids = map[string]string{}
	}
	missing := len(ids) == 0
	for _, r := range want {
		if ids[r] == "" {
			missing = true
		}
	}
	if !missing {
		return ids, nil
	}
	pools, err := p.api.list(ctx, p.acctPath("pools"), nil)
	if err != nil {
		return nil, err
	}
	for r, pl := range p.ownPools(pools) {
		if ids[r] == "" {
			ids[r] = str(pl, "id")
		}
	}
	p.mu.Lock()
	p.state.poolIDs = ids
	p.mu.Unlock()
	return ids, nil
}

func (p *Provider) applyPool(ctx context.Context, c plan.Change, doc plan.Document) error {
	body := maps.Clone(doc)
	if body["monitor"] == monitorName {
		id, err := p.monitorID(ctx)
		if err != nil {
			return err
		}
		body["monitor"] = id
	}
	if inPlace(c.Action) {
		_, err := p.api.send(ctx, http.MethodPut, p.acctPath("pools/"+c.ID), body)
		return err
	}
	name := str(body, "name")
	o, err := p.create(ctx, c.Address,
		func() (obj, error) { return p.api.send(ctx, http.MethodPost, p.acctPath("pools"), body) },
		func() (obj, error) {
			ps, err := p.api.list(ctx, p.acctPath("pools"), nil)
			return findIn(ps, func(o obj) bool { return str(o, "description") == p.marker() && str(o, "name") == name }), err
		})
	if err != nil {
		return err
	}
	p.mu.Lock()
	if p.state.poolIDs == nil {
		p.state.poolIDs = map[string]string{}
	}
	p.state.poolIDs[c.Address.Name] = str(o, "id")
	p.mu.Unlock()
	return nil
}

func (p *Provider) applyLB(ctx context.Context, zoneID string, c plan.Change, doc plan.Document) error {
	var regions []string
	collect := func(v any) {
		for _, x := range asList(v) {
			regions = append(regions, fmt.Sprint(x))
		}
	}
	collect(doc["default_pools"])
	regions = append(regions, fmt.Sprint(doc["fallback_pool"]))
	rp, _ := doc["region_pools"].(map[string]any)
	for _, v := range rp {
		collect(v)
	}
	ids, err := p.poolIDs(ctx, regions)
	if err != nil {
		return err
	}
	toID := func(v any) any {
		if id, ok := ids[fmt.Sprint(v)]; ok {
			return id
		}
		return v
	}
	toIDs := func(v any) []any {
		var out []any
		for _, x := range asList(v) {
			out = append(out, toID(x))
		}
		return out
	}
	body := maps.Clone(doc)
	body["default_pools"] = toIDs(doc["default_pools"])
	body["fallback_pool"] = toID(doc["fallback_pool"])
	rpIDs := obj{}
	for k, v := range rp {
		rpIDs[k] = toIDs(v)
	}
	body["region_pools"] = rpIDs
	base := "zones/" + zoneID + "/load_balancers"
	if inPlace(c.Action) {
		_, err := p.api.send(ctx, http.MethodPut, base+"/"+c.ID, body)
		return err
	}
	name := str(body, "name")
	find := func() (obj, error) {
		ls, err := p.api.list(ctx, base, nil)
		return findIn(ls, func(o obj) bool {
			return str(o, "description") == p.marker() && strings.EqualFold(str(o, "name"), name)
		}), err
	}
	_, err = p.create(ctx, c.Address, func() (obj, error) { return p.api.send(ctx, http.MethodPost, base, body) }, find)
	if status(err) == http.StatusBadRequest {
		// A run that overlapped this one created the stack's load balancer
		// after this plan was made: the name is unique in the zone, so
		// point that one at this run's pools instead of failing.
		if lb, ferr := find(); ferr == nil && lb != nil {
			p.emit(event.Progress, c.Address, "the stack's load balancer was created meanwhile; updating it")
			_, err = p.api.send(ctx, http.MethodPut, base+"/"+str(lb, "id"), body)
		}
	}
	return err
}

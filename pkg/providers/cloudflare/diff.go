package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Diff implements provider.Provider. Live documents are first cut down to
// the fields the desired ones carry, so fields the service fills in never
// show as changes. It fails when the spec does not fit the zone's live plan
// tier, before anything is written.
func (p *Provider) Diff(_ context.Context, desired, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	if !opts.Destroy {
		if err := p.checkZoneServes(); err != nil {
			return nil, err
		}
		if err := p.checkTier(); err != nil {
			return nil, err
		}
	}
	want := map[plan.Address]plan.Document{}
	var keep []provider.Resource
	var retired []plan.Change
	for _, d := range desired {
		if d.Address.Kind == KindZoneSetting && retiredNotes[d.Address.Name] != "" {
			retired = append(retired, plan.Change{Address: d.Address, Action: plan.NoOp, Before: d.Doc, After: d.Doc, Notes: d.Notes})
			continue
		}
		if d.Address.Kind == KindRule && d.Doc["phase"] == phaseRateLimit {
			// Desired may have run before Read learned the live plan tier.
			d = p.retier(d)
		}
		want[d.Address] = d.Doc
		keep = append(keep, d)
	}
	projected := make([]provider.Resource, 0, len(live))
	for _, l := range p.withChosenCert(live) {
		if d, ok := want[l.Address]; ok {
			l.Doc = keepOverrides(project(l.Doc, d).(plan.Document), l.Doc)
		}
		projected = append(projected, l)
	}
	changes := provider.DiffResources(keep, projected, opts)
	out := changes[:0]
	var errs []error
	for _, c := range changes {
		switch c.Address.Kind {
		case KindZoneSetting:
			if c.Action == plan.Delete {
				continue // settings are not owned objects: `down` leaves them as they are
			}
			if c.Action == plan.Update && !p.settingEditable(c.Address.Name) {
				errs = append(errs, fmt.Errorf("zone setting %s is not editable on the zone's %s plan (wanted %v)", c.Address.Name, p.effectivePlan(), c.After["value"]))
			}
		case KindOriginCert:
			p.certDecision(&c)
		}
		if c.Action == plan.Adopt {
			p.adoptConflict(&c)
		}
		if reason := p.dupReason(c.Address); reason != "" && c.Action == plan.Delete && !opts.Destroy {
			c.Reason = reason
		}
		out = append(out, c)
	}
	p.orderDeletes(out)
	if !opts.Destroy {
		out = append(out, retired...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func (p *Provider) settingEditable(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.state.editable[id]
	return !ok || e
}

// project keeps only the parts of live that desired describes: map keys
// desired has, and list elements pairwise.
func project(live, desired any) any {
	switch d := desired.(type) {
	case plan.Document:
		l, ok := live.(map[string]any)
		if !ok {
			return live
		}
		out := plan.Document{}
		for k, dv := range d {
			if lv, ok := l[k]; ok {
				out[k] = project(lv, dv)
			}
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return live
		}
		out := make([]any, len(l))
		for i := range l {
			out[i] = project(l[i], d[i])
		}
		return out
	}
	return live
}

// certDecision turns a no-op or update of the Origin CA certificate into a
// replace when chooseCert found that a new one must be issued.
func (p *Provider) certDecision(c *plan.Change) {
	p.mu.Lock()
	cert, why := p.state.cert, p.state.certIssue
	p.mu.Unlock()
	if c.Action != plan.NoOp && c.Action != plan.Update || cert == nil || why == "" {
		return
	}
	c.Action, c.Reason = plan.Replace, why
}

// withChosenCert addresses the live certificates by chooseCert's decision.
func (p *Provider) withChosenCert(live []provider.Resource) []provider.Resource {
	p.mu.Lock()
	certs, keep, read := p.state.certs, p.state.certKeep, p.state.read
	p.mu.Unlock()
	if !read {
		return live
	}
	out := slices.DeleteFunc(slices.Clone(live), func(r provider.Resource) bool { return r.Address.Kind == KindOriginCert })
	return append(out, p.certResources(certs, max(keep, 0))...)
}

func (p *Provider) dupReason(a plan.Address) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state.dups[a]
}

// retier rebuilds a rate limiting rule's expression for the live plan tier.
func (p *Provider) retier(d provider.Resource) provider.Resource {
	for _, rl := range p.cf.RateLimits {
		if d.Address.Name == p.refPrefix()+phaseInfix[phaseRateLimit]+rl.Name {
			doc := maps.Clone(d.Doc)
			doc["expression"] = p.rateLimitExpr(rl.Path, p.effectivePlan())
			d.Doc = doc
		}
	}
	return d
}

// orderDeletes gives deletes the dependencies the engine needs to remove
// load-balancing objects in an order the API accepts: the load balancer
// before its pools, pools before the monitor, and a pool dropped from the
// spec only after the load balancer stopped pointing at it.
func (p *Provider) orderDeletes(changes []plan.Change) {
	var lb *plan.Change
	var pools, monitors []plan.Address
	for i := range changes {
		switch c := &changes[i]; c.Address.Kind {
		case KindLB:
			lb = c
		case KindPool:
			pools = append(pools, c.Address)
		case KindMonitor:
			monitors = append(monitors, c.Address)
		}
	}
	for i := range changes {
		c := &changes[i]
		if c.Action != plan.Delete {
			continue
		}
		switch c.Address.Kind {
		case KindPool:
			// Deletes run dependents first: a pool goes before the monitor.
			c.DependsOn = appendNew(c.DependsOn, monitors...)
			if lb != nil && (lb.Action == plan.Update || lb.Action == plan.Replace) {
				c.DependsOn = appendNew(c.DependsOn, lb.Address)
			}
		case KindLB, KindAlertPolicy:
			c.DependsOn = appendNew(c.DependsOn, pools...)
		case KindDNSRecord:
			if lb != nil {
				c.DependsOn = appendNew(c.DependsOn, lb.Address)
			}
		}
	}
}

func appendNew(list []plan.Address, add ...plan.Address) []plan.Address {
	list = slices.Clone(list) // may share an array with the desired resource
	for _, a := range add {
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list
}

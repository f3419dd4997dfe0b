package kubernetes

import (
	"context"
	"fmt"
	"strings"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

var (
	_ provider.Checker  = (*Provider)(nil)
	_ provider.Verifier = (*Provider)(nil)
)

// Check reports, while planning, how the region is reached: one info line
// with what is in place, a warning for each problem. What `up` creates is
// checked by Verify.
func (p *Provider) Check(ctx context.Context) []plan.Diagnostic {
	checks, err := p.checkExposure(ctx, liveReads{p: p, snap: p.snapshot()})
	if err != nil {
		return []plan.Diagnostic{{Severity: plan.SeverityWarning, Message: fmt.Sprintf("region %s: checking the exposure: %v", p.region, err)}}
	}
	var ok []string
	var out []plan.Diagnostic
	for _, c := range checks {
		switch {
		case c.Pending, c.OK:
			ok = append(ok, c.String())
		default:
			out = append(out, plan.Diagnostic{Severity: plan.SeverityWarning, Message: fmt.Sprintf("region %s: %s", p.region, c)})
		}
	}
	if len(ok) > 0 {
		info := plan.Diagnostic{Severity: "info", Message: fmt.Sprintf("region %s: %s", p.region, strings.Join(ok, "; "))}
		out = append([]plan.Diagnostic{info}, out...)
	}
	return out
}

// Verify ends `up` in this region: it waits until the route is accepted by
// its Gateway with every reference resolved (or the Ingress has its class
// and address), failing at once with the controller's reason when the route
// is refused.
func (p *Provider) Verify(ctx context.Context) error {
	if err := p.waitServed(ctx); err != nil {
		return err
	}
	h := p.probeHealth(ctx)
	if !h.Healthy {
		return fmt.Errorf("region %s: the origin does not serve %s: %s", p.region, h.Address.Name, h.Detail)
	}
	p.emit(event.Progress, h.Address, "", "probe "+strings.ToLower(h.State)+": "+h.Detail, zeroTime)
	return nil
}

// servingHealth is the exposure checks and the origin probe as `status`
// lines: a check that fails or is still pending is unhealthy.
func (p *Provider) servingHealth(ctx context.Context) []provider.Health {
	var out []provider.Health
	checks, err := p.checkExposure(ctx, liveReads{p: p})
	if err != nil {
		out = append(out, provider.Health{Address: p.address("Exposure", "", p.region), State: "Unknown", Detail: err.Error()})
	}
	for _, c := range checks {
		h := provider.Health{Address: p.checkAddress(c), Healthy: c.OK || c.Advisory, Detail: c.Detail}
		switch {
		case c.OK:
			h.State = "OK"
		case c.Pending:
			h.State = "Pending"
		case c.Advisory:
			h.State = "Warning"
		default:
			h.State = "Failing"
		}
		out = append(out, h)
	}
	return append(out, p.probeHealth(ctx))
}

// waitServed polls the exposure checks until nothing is pending, within
// the address timeout. Problems the controller reports end the wait;
// problems of a platform Gateway that does not stop the route (no client
// certificate validation) are warnings.
func (p *Provider) waitServed(ctx context.Context) error {
	start := p.opts.Now()
	deadline := start.Add(p.opts.AddressTimeout)
	lastReport := start
	for {
		checks, err := p.checkExposure(ctx, liveReads{p: p})
		if err != nil {
			return p.wrap(err)
		}
		var pending, failed []exposureCheck
		for _, c := range checks {
			switch {
			case c.Pending:
				pending = append(pending, c)
			case !c.OK:
				failed = append(failed, c)
			}
		}
		var fatal []string
		for _, c := range failed {
			if !c.Advisory {
				fatal = append(fatal, c.String())
			}
		}
		if len(fatal) > 0 {
			return fmt.Errorf("region %s: not served: %s", p.region, strings.Join(fatal, "; "))
		}
		if len(pending) == 0 {
			for _, c := range checks {
				typ := event.Progress
				if !c.OK {
					typ = event.Warning
				}
				p.emit(typ, p.checkAddress(c), "", c.Detail, start)
			}
			return nil
		}
		now := p.opts.Now()
		if now.After(deadline) {
			return fmt.Errorf("region %s: not confirmed after %s: %s", p.region, p.opts.AddressTimeout, pending[0])
		}
		if now.Sub(lastReport) >= p.opts.ProgressInterval {
			p.emit(event.Progress, p.checkAddress(pending[0]), "", "waiting: "+pending[0].Detail, start)
			lastReport = now
		}
		if err := ctxtime.Sleep(ctx, p.opts.PollInterval); err != nil {
			return err
		}
	}
}

// checkAddress turns a check's subject ("HTTPRoute ns/name") into an event
// address.
func (p *Provider) checkAddress(c exposureCheck) plan.Address {
	kind, name, _ := strings.Cut(c.Subject, " ")
	ns, n, found := strings.Cut(name, "/")
	if !found {
		return p.address(kind, "", name)
	}
	return p.address(kind, ns, n)
}

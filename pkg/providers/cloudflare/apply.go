package cloudflare

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// createAttempts bounds re-sending a create whose outcome was unknown and
// that re-listing did not find.
const createAttempts = 4

// Apply implements provider.Provider: one create, update or replace,
// exactly as planned. Unknown values are resolved from out.
func (p *Provider) Apply(ctx context.Context, c plan.Change, out provider.Outputs) error {
	if c.Action == plan.NoOp {
		return nil
	}
	if c.Action == plan.Delete {
		return p.Delete(ctx, c)
	}
	if c.Conflict != "" {
		return fmt.Errorf("%s", c.Conflict)
	}
	if err := p.online(); err != nil {
		return err
	}
	zoneID, _, err := p.lookupZone(ctx)
	if err != nil {
		return err
	}
	doc, err := resolve(c.After, out)
	if err != nil {
		return err
	}
	switch c.Address.Kind {
	case KindZoneSetting:
		if retiredNotes[c.Address.Name] != "" {
			return nil
		}
		_, err = p.api.send(ctx, http.MethodPatch, "zones/"+zoneID+"/settings/"+c.Address.Name, obj{"value": doc["value"]})
	case KindDNSRecord:
		err = p.applyDNS(ctx, zoneID, c, doc)
	case KindRule:
		err = p.writeRule(ctx, zoneID, c.Address.Name, doc)
	case KindMonitor:
		err = p.lbRefusal(p.applyMonitor(ctx, c, doc))
	case KindPool:
		err = p.lbRefusal(p.applyPool(ctx, c, doc))
	case KindLB:
		err = p.lbRefusal(p.applyLB(ctx, zoneID, c, doc))
	case KindOriginCert:
		err = p.applyCert(ctx, zoneID, c, doc, out)
	case KindAlertPolicy:
		err = p.applyAlertPolicy(ctx, c, doc)
	default:
		err = fmt.Errorf("unknown kind %s", c.Address.Kind)
	}
	// The engine names the resource and the action, and reports the outcome.
	return apiErr(err)
}

// Delete implements provider.Provider. Objects already gone count as deleted.
func (p *Provider) Delete(ctx context.Context, c plan.Change) error {
	if err := p.online(); err != nil {
		return err
	}
	zoneID, _, err := p.lookupZone(ctx)
	if err != nil {
		return err
	}
	var path string
	switch c.Address.Kind {
	case KindZoneSetting:
		return nil // settings are compared, never owned
	case KindDNSRecord:
		path = "zones/" + zoneID + "/dns_records/" + c.ID
	case KindRule:
		err = p.writeRule(ctx, zoneID, c.Address.Name, nil)
	case KindMonitor:
		path = p.acctPath("monitors/" + c.ID)
	case KindPool:
		path = p.acctPath("pools/" + c.ID)
	case KindLB:
		path = "zones/" + zoneID + "/load_balancers/" + c.ID
	case KindOriginCert:
		path = "certificates/" + c.ID
	case KindAlertPolicy:
		path = p.policiesPath() + "/" + c.ID
	default:
		err = fmt.Errorf("unknown kind %s", c.Address.Kind)
	}
	if path != "" {
		_, err = p.api.send(ctx, http.MethodDelete, path, nil)
		if status(err) == http.StatusNotFound {
			err = nil
		}
	}
	return apiErr(err)
}

// resolve replaces Unknown leaves with their outputs; one still unknown is an error.
func resolve(doc plan.Document, out provider.Outputs) (plan.Document, error) {
	var missing []string
	var walk func(v any) any
	walk = func(v any) any {
		switch t := v.(type) {
		case plan.Unknown:
			if out != nil {
				if got, ok := out.Get(t.From); ok {
					return got
				}
			}
			missing = append(missing, t.From)
			return nil
		case map[string]any:
			m := make(map[string]any, len(t))
			for k, x := range t {
				m[k] = walk(x)
			}
			return m
		case []any:
			l := make([]any, len(t))
			for i, x := range t {
				l[i] = walk(x)
			}
			return l
		}
		return v
	}
	res := walk(doc).(map[string]any)
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("values not known yet: %s", strings.Join(missing, ", "))
	}
	return res, nil
}

// create sends a create; when its outcome is unknown (lost response, 5xx)
// it re-lists by ownership marker and adopts what it finds instead of
// creating a duplicate.
func (p *Provider) create(ctx context.Context, addr plan.Address, post func() (obj, error), find func() (obj, error)) (obj, error) {
	for attempt := 1; ; attempt++ {
		o, err := post()
		if err == nil {
			return o, nil
		}
		// 81053: a CNAME over an A/AAAA; 81054: an A/AAAA over a CNAME;
		// 81057/81058: the record (or an identical one) exists.
		conflict := hasCode(err, 81053) || hasCode(err, 81054) || hasCode(err, 81057) || hasCode(err, 81058)
		if !outcomeUnknown(err) && !conflict || attempt >= createAttempts {
			return nil, err
		}
		p.emit(event.Progress, addr, "create outcome unknown; re-listing by ownership marker")
		found, ferr := find()
		if ferr != nil {
			return nil, ferr
		}
		if found != nil {
			p.emit(event.Progress, addr, "found the object created by the lost request; adopting it")
			return found, nil
		}
		if conflict {
			// The name is taken by a record without this stack's marker.
			return nil, fmt.Errorf("%s is taken by a DNS record nekoctl does not own (it has no %q comment): remove that record or change spec.hostnames: %w",
				addr.Name, p.marker(), apiErr(err))
		}
	}
}

func findIn(items []obj, match func(obj) bool) obj {
	for _, o := range items {
		if match(o) {
			return o
		}
	}
	return nil
}

func (p *Provider) applyDNS(ctx context.Context, zoneID string, c plan.Change, doc plan.Document) error {
	base := "zones/" + zoneID + "/dns_records"
	if t, _ := doc["type"].(string); t != "A" && t != "AAAA" && t != "CNAME" {
		// The type followed an address that was unknown when planned.
		doc["type"] = recordType(doc["content"])
	}
	switch {
	case c.Action == plan.Update:
		_, err := p.api.send(ctx, http.MethodPatch, base+"/"+c.ID, doc)
		return err
	case c.Action == plan.Adopt:
		if create, err := p.adoptDNS(ctx, base, c, doc); err != nil || !create {
			return err
		}
	case c.Action == plan.Replace && c.ID != "":
		if _, err := p.api.send(ctx, http.MethodDelete, base+"/"+c.ID, nil); err != nil && status(err) != http.StatusNotFound {
			return err
		}
	}
	_, err := p.create(ctx, c.Address,
		func() (obj, error) { return p.api.send(ctx, http.MethodPost, base, doc) },
		func() (obj, error) {
			recs, err := p.api.list(ctx, base, url.Values{"comment.exact": {p.marker()}, "name": {fmt.Sprint(doc["name"])}})
			return findIn(recs, func(o obj) bool {
				return str(o, "comment") == p.marker() && strings.EqualFold(str(o, "name"), fmt.Sprint(doc["name"]))
			}), err
		})
	return err
}

// writeRule merges one owned rule into its phase by ref (nil rule removes
// it), keeping every rule others made, and PUTs the whole phase.
func (p *Provider) writeRule(ctx context.Context, zoneID, ref string, rule plan.Document) error {
	phase := ""
	for _, ph := range phases {
		if strings.HasPrefix(ref, p.refPrefix()+phaseInfix[ph]) {
			phase = ph
		}
	}
	if phase == "" {
		return fmt.Errorf("rule %s belongs to no known phase", ref)
	}
	mu := p.phaseMu[phase]
	mu.Lock()
	defer mu.Unlock()
	current, err := p.getPhase(ctx, zoneID, phase)
	if err != nil {
		return err
	}
	var next []obj
	placed := false
	for _, r := range current {
		r = maps.Clone(r)
		delete(r, "version")
		delete(r, "last_updated")
		if str(r, "ref") == ref {
			if rule != nil && !placed {
				next = append(next, ruleBody(rule))
				placed = true
			}
			continue
		}
		next = append(next, r)
	}
	if rule != nil && !placed {
		next = append(next, ruleBody(rule))
	}
	if next == nil {
		next = []obj{}
	}
	_, err = p.api.send(ctx, http.MethodPut, "zones/"+zoneID+"/rulesets/phases/"+phase+"/entrypoint", obj{"rules": next})
	return err
}

func ruleBody(doc plan.Document) obj {
	r := maps.Clone(doc)
	delete(r, "phase")
	return r
}

// lbRefusal explains a 403 on a load-balancing write: load balancing is a
// paid add-on, and the service refuses monitors, pools and load balancers
// on an account without it (the code is not documented, so only the status
// is relied on).
func (p *Provider) lbRefusal(err error) error {
	if status(err) != http.StatusForbidden {
		return err
	}
	return fmt.Errorf("Cloudflare refused a load-balancing change in account %s: the account needs the Load Balancing add-on (and the token the Load Balancing permissions); subscribe, or set spec.cloudflare.loadBalancer.enabled: false to serve the API from the primary region: %w",
		p.cf.AccountID, apiErr(err))
}

package cloudflare

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// zoneFacts is what the zone lookup learns besides id and tier.
type zoneFacts struct {
	id, tier    string
	status      string
	nameServers []string
	planName    string
	account     struct{ id, name string }
}

// ZoneInfo is the stack's zone as the API describes it.
type ZoneInfo struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	// Status is initializing, pending, active or moved: only an active
	// zone serves traffic.
	Status string `json:"status"`
	// Plan is the tier (free, pro, business, enterprise); PlanName the
	// plan's name ("Pro Website").
	Plan        string   `json:"plan"`
	PlanName    string   `json:"plan_name"`
	NameServers []string `json:"name_servers"`
	AccountID   string   `json:"account_id"`
	AccountName string   `json:"account_name,omitempty"`
}

// Zone looks the stack's zone up (one call) and describes it. The error
// says why the stack cannot be built on it: not found, another account's
// zone (the description is still returned), or a zone that serves no
// traffic, naming the name servers to set at the registrar.
func (p *Provider) Zone(ctx context.Context) (ZoneInfo, error) {
	if err := p.online(); err != nil {
		return ZoneInfo{}, err
	}
	_, _, err := p.lookupZone(ctx)
	p.mu.Lock()
	z := p.zone
	p.mu.Unlock()
	info := ZoneInfo{Name: p.cf.Zone, ID: z.id, Status: z.status, Plan: z.tier, PlanName: z.planName,
		NameServers: z.nameServers, AccountID: z.account.id, AccountName: z.account.name}
	if err != nil {
		return info, err
	}
	return info, p.checkZoneServes()
}

// lookupZone finds the zone by name (once per run) and returns its id and
// plan tier. A zone that another account owns is refused: the stack's
// monitor and pools live in spec.cloudflare.accountID, and nekoctl must not
// write into a zone the spec does not name the owner of.
func (p *Provider) lookupZone(ctx context.Context) (string, string, error) {
	p.mu.Lock()
	if p.state.zoneID != "" {
		id, pl := p.state.zoneID, p.state.plan
		p.mu.Unlock()
		return id, pl, nil
	}
	p.mu.Unlock()
	zs, err := p.api.list(ctx, "zones", url.Values{"name": {p.cf.Zone}})
	if err != nil {
		return "", "", fmt.Errorf("looking up zone %s: %w", p.cf.Zone, apiErr(err))
	}
	for _, z := range zs {
		if strings.EqualFold(str(z, "name"), p.cf.Zone) {
			return p.takeZone(zoneFactsOf(z))
		}
	}
	return "", "", fmt.Errorf("zone %s not found; add it to account %s or give the token access to it", p.cf.Zone, p.cf.AccountID)
}

// zoneByID reads the zone a previous run remembered (see zonecache.go). ok
// is false when the read failed or the id names another zone than the
// spec's: the caller then looks the zone up by name, which reports what is
// wrong.
func (p *Provider) zoneByID(ctx context.Context, id string) (zid, tier string, ok bool, err error) {
	z, err := p.api.get(ctx, "zones/"+id)
	if err != nil || !strings.EqualFold(str(z, "name"), p.cf.Zone) || str(z, "id") != id {
		return "", "", false, nil
	}
	zid, tier, err = p.takeZone(zoneFactsOf(z))
	return zid, tier, true, err
}

// zoneFactsOf reads a zone object as the API describes it.
func zoneFactsOf(z obj) zoneFacts {
	acct, _ := z["account"].(obj)
	pl, _ := z["plan"].(obj)
	tier := str(pl, "legacy_id")
	if tier == "" {
		tier = strings.ToLower(strings.Fields(str(pl, "name") + " free")[0])
	}
	facts := zoneFacts{id: str(z, "id"), tier: tier, status: str(z, "status"), planName: str(pl, "name")}
	facts.account.id, facts.account.name = str(acct, "id"), str(acct, "name")
	for _, ns := range asList(z["name_servers"]) {
		facts.nameServers = append(facts.nameServers, fmt.Sprint(ns))
	}
	return facts
}

// takeZone keeps the facts of the spec's zone and returns its id and tier,
// unless another account owns it.
func (p *Provider) takeZone(facts zoneFacts) (string, string, error) {
	p.mu.Lock()
	p.zone = facts
	p.mu.Unlock()
	if id := facts.account.id; id != "" && id != p.cf.AccountID {
		return "", "", fmt.Errorf("zone %s belongs to account %s, not to spec.cloudflare.accountID %s: set the zone's account in the spec (its monitor and pools live there) or use a token scoped to the right account",
			p.cf.Zone, id, p.cf.AccountID)
	}
	return facts.id, facts.tier, nil
}

// checkZoneServes refuses to build on a zone that serves no traffic: the
// stack would "succeed" while no request could reach it.
func (p *Provider) checkZoneServes() error {
	p.mu.Lock()
	z := p.zone
	p.mu.Unlock()
	ns := strings.Join(z.nameServers, ", ")
	switch z.status {
	case "pending", "initializing":
		return fmt.Errorf("zone %s is %s: Cloudflare serves no traffic for it until the registrar delegates it to Cloudflare's name servers %s; set them at the registrar, wait until the zone is active, then run again (nothing was applied)",
			p.cf.Zone, z.status, ns)
	case "moved":
		return fmt.Errorf("zone %s is moved: its registrar no longer delegates it to Cloudflare; set the name servers %s at the registrar again (nothing was applied)",
			p.cf.Zone, ns)
	}
	return nil
}

// Diagnostics implements provider.Diagnoser: the zone's plan tier and
// status, read from the API, so that plan shows what it planned against.
func (p *Provider) Diagnostics() []plan.Diagnostic {
	p.mu.Lock()
	z, tier := p.zone, p.state.plan
	p.mu.Unlock()
	if z.status == "" {
		return nil
	}
	shadowed := p.shadowedWarning()
	name := z.planName
	if name == "" {
		name = tier
	}
	return append([]plan.Diagnostic{{Severity: plan.SeverityInfo, Provider: Name,
		Message: fmt.Sprintf("zone %s: %s plan, status %s, name servers %s", p.cf.Zone, name, z.status, strings.Join(z.nameServers, ", "))}}, shadowed...)
}

var _ provider.Diagnoser = (*Provider)(nil)

package cloudflare

import (
	"context"
	"fmt"
	"maps"
	"net/http"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// KindAlertPolicy is an account notification policy: the stack's one policy
// emails spec.monitoring.alerting.emails when a region's pool changes health,
// the failure no in-cluster Prometheus can see.
const KindAlertPolicy = "notification_policy"

// alertPolicyName is the address name of the pool-health policy.
const alertPolicyName = "pool-health"

// alertPolicyKeys are the policy fields nekoctl owns.
var alertPolicyKeys = []string{"name", "description", "alert_type", "enabled", "mechanisms", "filters"}

func (p *Provider) policiesPath() string {
	return "accounts/" + p.cf.AccountID + "/alerting/v3/policies"
}

// wantsAlertPolicy: the policy watches the load balancer's pools and needs
// somewhere to send its email.
func (p *Provider) wantsAlertPolicy() bool {
	a := p.st.Spec.Monitoring.Alerting
	return p.lbEnabled() && spec.On(a.External) && len(a.Emails) > 0
}

// desiredAlertPolicy names the pools by region, as the load balancer does;
// Apply turns the names into ids.
func (p *Provider) desiredAlertPolicy() []provider.Resource {
	if !p.wantsAlertPolicy() {
		return nil
	}
	var emails, pools []any
	for _, e := range p.st.Spec.Monitoring.Alerting.Emails {
		emails = append(emails, plan.Document{"id": e})
	}
	var deps []plan.Address
	for _, r := range p.st.Spec.Regions {
		pools = append(pools, r.Name)
		deps = append(deps, p.accountAddr(KindPool, r.Name))
	}
	return []provider.Resource{{Address: p.accountAddr(KindAlertPolicy, alertPolicyName), DependsOn: deps, Doc: plan.Document{
		"name":        "nekoctl " + p.st.Metadata.Name + ": origin pool health",
		"description": p.marker(),
		"alert_type":  "load_balancing_health_alert",
		"enabled":     true,
		"mechanisms":  plan.Document{"email": emails},
		"filters": plan.Document{
			"pool_id":      pools,
			"new_health":   []any{"Unhealthy", "Healthy"},
			"event_source": []any{"pool"},
		},
	}}}
}

// readAlertPolicies reads the policies carrying the stack's marker. Their
// pool ids stay ids and their addresses are provisional: readLB learns the
// pools at the same time, and settleAlertPolicies finishes once both are done.
func (p *Provider) readAlertPolicies(ctx context.Context, _ *liveState) ([]provider.Resource, error) {
	list, err := p.api.list(ctx, p.policiesPath(), nil)
	if err != nil {
		return nil, fmt.Errorf("listing notification policies: %w", apiErr(err))
	}
	var out []provider.Resource
	for _, o := range list {
		if str(o, "description") != p.marker() {
			continue
		}
		doc := plan.Document{}
		for _, k := range alertPolicyKeys {
			if v, ok := o[k]; ok {
				doc[k] = v
			}
		}
		out = append(out, provider.Resource{Address: p.accountAddr(KindAlertPolicy, alertPolicyName), ID: str(o, "id"), Doc: doc, Fingerprint: str(o, "modified")})
	}
	return out, nil
}

// settleAlertPolicies names the pools in the policies' filters by region, so
// they compare with the desired document, and, when runs that overlapped
// created the policy twice, keeps the one naming the most of the stack's
// pools under its address and gives every other copy its own ("name#id").
func (p *Provider) settleAlertPolicies(rs []provider.Resource, st *liveState) {
	names := map[string]string{}
	for region, id := range st.poolIDs {
		names[id] = region
	}
	var idx []int
	resolved := map[int]int{}
	for i := range rs {
		if rs[i].Address.Kind != KindAlertPolicy {
			continue
		}
		idx = append(idx, i)
		f, ok := rs[i].Doc["filters"].(map[string]any)
		if !ok {
			continue
		}
		f = maps.Clone(f)
		var ids []any
		for _, id := range asList(f["pool_id"]) {
			if n, ok := names[fmt.Sprint(id)]; ok {
				id = n
				resolved[i]++
			}
			ids = append(ids, id)
		}
		f["pool_id"] = ids
		rs[i].Doc = maps.Clone(rs[i].Doc)
		rs[i].Doc["filters"] = f
	}
	if len(idx) < 2 {
		return
	}
	keep := idx[0]
	for _, i := range idx {
		if resolved[i] > resolved[keep] {
			keep = i
		}
	}
	for _, i := range idx {
		if i == keep {
			continue
		}
		name := dupName(alertPolicyName, rs[i].ID)
		rs[i].Address = p.accountAddr(KindAlertPolicy, name)
		st.dups[rs[i].Address] = fmt.Sprintf("a second pool-health policy of this stack (created by runs that overlapped); policy %s is kept", rs[keep].ID)
	}
}

func (p *Provider) applyAlertPolicy(ctx context.Context, c plan.Change, doc plan.Document) error {
	filters, _ := doc["filters"].(map[string]any)
	var regions []string
	for _, r := range asList(filters["pool_id"]) {
		regions = append(regions, fmt.Sprint(r))
	}
	ids, err := p.poolIDs(ctx, regions)
	if err != nil {
		return err
	}
	var poolIDs []any
	for _, r := range regions {
		if ids[r] == "" {
			return fmt.Errorf("the pool of region %s does not exist yet", r)
		}
		poolIDs = append(poolIDs, ids[r])
	}
	body := maps.Clone(doc)
	f := maps.Clone(filters)
	f["pool_id"] = poolIDs
	body["filters"] = f
	if c.Action == plan.Update || c.Action == plan.Adopt {
		_, err := p.api.send(ctx, http.MethodPut, p.policiesPath()+"/"+c.ID, body)
		return err
	}
	_, err = p.create(ctx, c.Address,
		func() (obj, error) { return p.api.send(ctx, http.MethodPost, p.policiesPath(), body) },
		func() (obj, error) {
			ps, err := p.api.list(ctx, p.policiesPath(), nil)
			return findIn(ps, func(o obj) bool { return str(o, "description") == p.marker() }), err
		})
	return err
}

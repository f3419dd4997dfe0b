package cloudflare

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Plan-tier limits of the features the stack uses (Cloudflare's documented
// limits; the spec package checks the spec's declared plan, this checks the
// zone's live one, including room left by rules and pools others own).
type tierLimits struct {
	rlPeriods, rlTimeouts []int
	rlRules               int
	cacheRules            int
	managedWAF            bool
	lbObjects             int
	commentLen            int
	monitorMinInterval    int
}

// upTo lists the rate-limit values Cloudflare accepts up to n seconds.
func upTo(n int) []int {
	var out []int
	for _, v := range spec.RateLimitValues {
		if v <= n {
			out = append(out, v)
		}
	}
	return out
}

// tiers derives each plan's limits from the tables the spec validates
// against, adding what only a live zone needs (comment length, monitor
// interval).
var tiers = func() map[string]tierLimits {
	out := map[string]tierLimits{}
	for _, t := range []string{"free", "pro", "business", "enterprise"} {
		l := tierLimits{
			rlPeriods: upTo(spec.RateLimitMaxPeriod[t]), rlTimeouts: upTo(spec.RateLimitMaxTimeout[t]),
			rlRules: spec.RateLimitMaxRules[t], cacheRules: spec.CacheRuleMaxRules[t],
			managedWAF: spec.PlanAtLeast(t, "pro"), lbObjects: spec.MaxLoadBalancerPools,
			commentLen: 500, monitorMinInterval: 15,
		}
		switch t {
		case "free":
			l.commentLen = 100
		case "enterprise":
			l.lbObjects, l.monitorMinInterval = 0, 10
		}
		out[t] = l
	}
	return out
}()

func secondsList(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprintf("%ds", n)
	}
	return strings.Join(s, ", ")
}

// checkTier reports every feature of the spec that the zone's plan tier
// does not allow, all at once.
func (p *Provider) checkTier() error {
	tier := p.effectivePlan()
	lim, ok := tiers[tier]
	if !ok {
		return nil // unknown tier: let the API decide
	}
	p.mu.Lock()
	foreignRules := p.state.foreignRules
	foreignPools := p.state.foreignPools
	p.mu.Unlock()
	zone := p.cf.Zone
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("zone %s is on the %s plan: "+format, append([]any{zone, tier}, args...)...))
	}
	rls := p.cf.RateLimits
	if n := len(rls) + foreignRules[phaseRateLimit]; n > lim.rlRules {
		bad("%d rate limiting rules (%d from the spec, %d made by others) exceed the plan's %d", n, len(rls), foreignRules[phaseRateLimit], lim.rlRules)
	}
	for _, rl := range rls {
		if sec := rl.Period.Seconds(); !slices.Contains(lim.rlPeriods, sec) {
			bad("rate limit %q: period %s is not allowed (allowed: %s)", rl.Name, rl.Period, secondsList(lim.rlPeriods))
		}
		challenge := strings.Contains(rl.Action, "challenge")
		sec := rl.MitigationTimeout.Seconds()
		switch {
		case challenge && tier != "enterprise":
			if sec != 0 {
				bad("rate limit %q: the %s action needs mitigationTimeout 0 below Enterprise", rl.Name, rl.Action)
			}
		case !slices.Contains(lim.rlTimeouts, sec):
			bad("rate limit %q: mitigationTimeout %s is not allowed (allowed: %s)", rl.Name, rl.MitigationTimeout, secondsList(lim.rlTimeouts))
		}
	}
	for _, name := range p.cf.WAF.ManagedRulesets {
		if name != "free-managed" && !lim.managedWAF {
			bad("the managed WAF ruleset %q needs the Pro plan or higher (use free-managed, or upgrade the zone)", name)
		}
	}
	if n := len(p.cf.CacheRules) + foreignRules[phaseCache]; n > lim.cacheRules {
		bad("%d cache rules (%d from the spec, %d made by others) exceed the plan's %d", n, len(p.cf.CacheRules), foreignRules[phaseCache], lim.cacheRules)
	}
	if p.lbEnabled() {
		if n := len(p.st.Spec.Regions) + foreignPools; lim.lbObjects > 0 && n > lim.lbObjects {
			bad("%d load balancer pools (%d regions, %d others in the account) exceed the limit of %d", n, len(p.st.Spec.Regions), foreignPools, lim.lbObjects)
		}
		if iv := durSeconds(p.cf.LoadBalancer.Monitor.Interval); iv < lim.monitorMinInterval {
			bad("monitor interval %ds is below the minimum of %ds", iv, lim.monitorMinInterval)
		}
	}
	if len(p.marker()) > lim.commentLen {
		bad("the ownership marker %q is longer than the %d characters a DNS comment may have", p.marker(), lim.commentLen)
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("the spec does not fit the zone's plan:\n  %w", joinIndented(errs))
}

func joinIndented(errs []error) error {
	s := make([]string, len(errs))
	for i, e := range errs {
		s[i] = e.Error()
	}
	return errors.New(strings.Join(s, "\n  "))
}

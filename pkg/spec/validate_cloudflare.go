package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

var (
	accountIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)
	ruleNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
	codesRE     = regexp.MustCompile(`^([1-5][0-9x][0-9x])(,[1-5][0-9x][0-9x])*$`)
)

func (v *validator) cloudflare() {
	c := &v.st.Spec.Cloudflare
	const p = "spec.cloudflare"
	if !slices.Contains(planTiers, c.Plan) {
		v.errorf(p+".plan", "%q must be one of free, pro, business, enterprise", c.Plan)
		return
	}
	if c.AccountID == "" {
		v.errorf(p+".accountID", "is required: monitors and pools live at the account level")
	} else if !accountIDRE.MatchString(c.AccountID) {
		v.errorf(p+".accountID", "%q is not a Cloudflare account ID (32 hexadecimal characters)", c.AccountID)
	}
	if c.Zone != v.st.Spec.Domain && !strings.HasSuffix(v.st.Spec.Domain, "."+c.Zone) {
		v.errorf(p+".zone", "zone %q does not contain the domain %q", c.Zone, v.st.Spec.Domain)
	}
	v.zoneQuotas(c)
	v.zoneSettings(c)
	v.cacheRules(c)
	v.waf(c)
	v.rateLimits(c)
	v.loadBalancer(c)
	if !slices.Contains(OriginCertValidityDays, c.OriginCert.ValidityDays) {
		v.errorf(p+".originCertificate.validityDays", "%d must be one of %v", c.OriginCert.ValidityDays, OriginCertValidityDays)
	}
	if !oneOf(c.OriginCert.Type, "origin-ecc", "origin-rsa") {
		v.errorf(p+".originCertificate.type", "%q must be origin-ecc or origin-rsa", c.OriginCert.Type)
	}
}

func (v *validator) zoneSettings(c *Cloudflare) {
	const p = "spec.cloudflare"
	if !oneOf(c.SSL.Mode, "off", "flexible", "full", "strict") {
		v.errorf(p+".ssl.mode", "%q must be one of off, flexible, full, strict", c.SSL.Mode)
	} else if c.SSL.Mode != "strict" && On(c.OriginCert.Enabled) {
		v.warnf(p+".ssl.mode", "%q does not verify the origin certificate; the guide uses strict (Full (strict))", c.SSL.Mode)
	}
	// Turning it off warns in the workload's checks (the origins' side).
	if On(c.SSL.AuthenticatedOriginPulls) && !oneOf(c.SSL.Mode, "full", "strict") {
		v.errorf(p+".ssl.authenticatedOriginPulls", "needs ssl.mode full or strict (Cloudflare presents its client certificate only over an encrypted origin connection); set it to false or change the mode")
	}
	if !oneOf(c.SSL.MinTLSVersion, "1.0", "1.1", "1.2", "1.3") {
		v.errorf(p+".ssl.minTLSVersion", "%q must be one of 1.0, 1.1, 1.2, 1.3", c.SSL.MinTLSVersion)
	}
	if !oneOf(c.Caching.Level, "basic", "simplified", "standard") {
		v.errorf(p+".caching.level", "%q must be one of basic, simplified, standard", c.Caching.Level)
	}
	if ttl := c.Caching.BrowserTTL.Seconds(); !slices.Contains(BrowserCacheTTLValues, ttl) {
		v.errorf(p+".caching.browserTTL", "%s is not a value Cloudflare offers; use one of 30m, 1h, 2h, 4h, 8h, 1d, ...", c.Caching.BrowserTTL)
	}
	if c.Speed.Brotli != nil {
		v.warnf(p+".speed.brotli", "Cloudflare retired the Brotli setting on 2024-06-14: Brotli is always on now, so this is satisfied without a change")
	}
	if c.Speed.AutoMinify != nil {
		v.warnf(p+".speed.autoMinify", "Cloudflare retired Auto Minify on 2024-08-05 with no replacement: minify assets at build time; nekoctl leaves it out")
	}
}

func (v *validator) cacheRules(c *Cloudflare) {
	names := map[string]bool{}
	for i, r := range c.CacheRules {
		p := fmt.Sprintf("spec.cloudflare.cacheRules[%d]", i)
		v.ruleName(p, r.Name, names)
		v.rulePath(p, r.Path)
		if r.EdgeTTL != nil && !r.Cache {
			v.errorf(p+".edgeTTL", "is set but cache is false: a bypassed path has no edge TTL")
		}
	}
	if max := CacheRuleMaxRules[c.Plan]; len(c.CacheRules) > max {
		v.errorf("spec.cloudflare.cacheRules", "%d cache rules exceed the %s plan's %d", len(c.CacheRules), c.Plan, max)
	}
}

func (v *validator) waf(c *Cloudflare) {
	seen := map[string]bool{}
	for i, name := range c.WAF.ManagedRulesets {
		p := fmt.Sprintf("spec.cloudflare.waf.managedRulesets[%d]", i)
		switch {
		case ManagedRulesetIDs[name] == "":
			v.errorf(p, "%q must be one of cloudflare-managed, owasp, free-managed", name)
		case seen[name]:
			v.errorf(p, "%q is listed twice", name)
		case name != "free-managed" && !PlanAtLeast(c.Plan, "pro"):
			v.errorf(p, "the %s ruleset needs the Pro plan or higher; the zone is on %s (use free-managed)", name, c.Plan)
		}
		seen[name] = true
	}
	if o := c.WAF.OWASP; o != nil {
		p := "spec.cloudflare.waf.owasp"
		if !seen["owasp"] {
			v.errorf(p, "tunes the OWASP Core Ruleset, which managedRulesets does not deploy (add owasp there)")
		}
		if o.ParanoiaLevel != 0 && (o.ParanoiaLevel < 1 || o.ParanoiaLevel > 4) {
			v.errorf(p+".paranoiaLevel", "must be 1 to 4, found %d", o.ParanoiaLevel)
		}
		if _, ok := OWASPScoreThresholds[o.ScoreThreshold]; o.ScoreThreshold != "" && !ok {
			v.errorf(p+".scoreThreshold", "%q must be one of low (60 and higher), medium (40), high (25)", o.ScoreThreshold)
		}
		switch {
		case o.Action == "":
		case !oneOf(o.Action, "block", "managed_challenge", "challenge", "js_challenge", "log"):
			v.errorf(p+".action", "%q must be one of block, managed_challenge, challenge, js_challenge, log", o.Action)
		case o.Action == "log" && c.Plan != "enterprise":
			v.errorf(p+".action", "log needs the Enterprise plan; the zone is on %s (use block or managed_challenge)", c.Plan)
		}
	}
}

func (v *validator) rateLimits(c *Cloudflare) {
	names := map[string]bool{}
	if max := RateLimitMaxRules[c.Plan]; len(c.RateLimits) > max {
		v.errorf("spec.cloudflare.rateLimits", "%d rate-limiting rules exceed the %s plan's %d", len(c.RateLimits), c.Plan, max)
	}
	for i, r := range c.RateLimits {
		p := fmt.Sprintf("spec.cloudflare.rateLimits[%d]", i)
		v.ruleName(p, r.Name, names)
		v.rulePath(p, r.Path)
		if r.Requests < 1 {
			v.errorf(p+".requests", "must be at least 1, found %d", r.Requests)
		}
		period, timeout := r.Period.Seconds(), r.MitigationTimeout.Seconds()
		switch {
		case !slices.Contains(RateLimitValues, period):
			v.errorf(p+".period", "%s is not a period Cloudflare accepts (10s, 15s, 20s, 30s, 40s, 45s, 1m, 2m, 5m, 10m, 1h, ...)", r.Period)
		case period > RateLimitMaxPeriod[c.Plan]:
			v.errorf(p+".period", "%s exceeds the %s plan's longest period of %ds", r.Period, c.Plan, RateLimitMaxPeriod[c.Plan])
		}
		if !oneOf(r.Action, "block", "challenge", "managed_challenge", "js_challenge", "log") {
			v.errorf(p+".action", "%q must be one of block, challenge, managed_challenge, js_challenge, log", r.Action)
		}
		challenge := strings.Contains(r.Action, "challenge")
		switch {
		case challenge && c.Plan != "enterprise" && timeout != 0:
			v.errorf(p+".mitigationTimeout", "challenge actions below Enterprise need mitigationTimeout 0s, found %s", r.MitigationTimeout)
		case challenge:
		case !slices.Contains(RateLimitValues, timeout):
			v.errorf(p+".mitigationTimeout", "%s is not a timeout Cloudflare accepts", r.MitigationTimeout)
		case timeout > RateLimitMaxTimeout[c.Plan]:
			v.errorf(p+".mitigationTimeout", "%s exceeds the %s plan's longest mitigation timeout of %ds", r.MitigationTimeout, c.Plan, RateLimitMaxTimeout[c.Plan])
		}
	}
}

func (v *validator) loadBalancer(c *Cloudflare) {
	lb := &c.LoadBalancer
	const p = "spec.cloudflare.loadBalancer"
	if !On(lb.Enabled) {
		return
	}
	v.warnf(p, "load balancing is a paid add-on on every Cloudflare plan: make sure the account has it")
	if !oneOf(lb.Steering, "geo", "off", "random", "dynamic_latency", "proximity", "least_outstanding_requests", "least_connections") {
		v.errorf(p+".steering", "%q is not a steering policy", lb.Steering)
	}
	if len(v.st.Spec.Regions) > 0 && v.st.Spec.Region(lb.FallbackRegion) == nil {
		v.errorf(p+".fallbackRegion", "%q is not a region of this spec", lb.FallbackRegion)
	}
	if n := len(v.st.Spec.Regions); n > MaxLoadBalancerPools && c.Plan != "enterprise" {
		v.errorf("spec.regions", "%d regions need %d pools; below Enterprise the limit is %d", n, n, MaxLoadBalancerPools)
	}
	v.geoRegions(lb)
	m := &lb.Monitor
	if !strings.HasPrefix(m.Path, "/") {
		v.errorf(p+".monitor.path", "%q must start with /", m.Path)
	}
	minInterval := 15 * time.Second
	if c.Plan == "enterprise" {
		minInterval = 10 * time.Second
	}
	if m.Interval.Duration < minInterval || m.Interval.Duration > time.Hour {
		v.errorf(p+".monitor.interval", "%s must be between %s and 1h on the %s plan", m.Interval, minInterval, c.Plan)
	}
	if m.Timeout.Duration < time.Second || m.Timeout.Duration > 10*time.Second {
		v.errorf(p+".monitor.timeout", "%s must be between 1s and 10s", m.Timeout)
	} else if m.Timeout.Duration >= m.Interval.Duration {
		v.errorf(p+".monitor.timeout", "%s must be shorter than the interval %s", m.Timeout, m.Interval)
	}
	if *m.Retries < 0 || *m.Retries > 5 {
		v.errorf(p+".monitor.retries", "must be 0-5, found %d", *m.Retries)
	}
	if !codesRE.MatchString(m.ExpectedCodes) {
		v.errorf(p+".monitor.expectedCodes", "%q must be HTTP codes such as 200 or 2xx", m.ExpectedCodes)
	}
	if m.Port < 1 || m.Port > 65535 {
		v.errorf(p+".monitor.port", "must be 1-65535, found %d", m.Port)
	}
}

func (v *validator) geoRegions(lb *LoadBalancer) {
	owner := map[string]string{}
	any := false
	for i := range v.st.Spec.Regions {
		r := &v.st.Spec.Regions[i]
		for j, g := range r.GeoRegions {
			p := fmt.Sprintf("spec.regions[%d].geoRegions[%d]", i, j)
			any = true
			switch {
			case !slices.Contains(GeoRegions, g):
				v.errorf(p, "%q is not a Cloudflare region; use one of %s", g, strings.Join(GeoRegions, ", "))
			case owner[g] != "":
				v.errorf(p, "%s is already served first by region %q; a geo region maps to one pool", g, owner[g])
			default:
				owner[g] = r.Name
			}
		}
	}
	if lb.Steering == "geo" && !any && len(v.st.Spec.Regions) > 1 {
		v.warnf("spec.cloudflare.loadBalancer.steering", "geo steering without geoRegions on any region sends all traffic to the default pools")
	}
}

func (v *validator) ruleName(p, name string, seen map[string]bool) {
	switch {
	case !ruleNameRE.MatchString(name):
		v.errorf(p+".name", "%q must be lower-case letters, digits and '-'", name)
	case seen[name]:
		v.errorf(p+".name", "%q is used twice; rule names must be unique", name)
	}
	seen[name] = true
}

func (v *validator) rulePath(p, path string) {
	if !strings.HasPrefix(path, "/") {
		v.errorf(p+".path", "%q must start with /", path)
	} else if strings.ContainsAny(path, "\" \\") {
		v.errorf(p+".path", "%q must not contain quotes, spaces or backslashes", path)
	}
}

func oneOf(s string, allowed ...string) bool { return slices.Contains(allowed, s) }

// zoneQuotas checks, before anything remote, what the zone's plan tier
// bounds: how many DNS records the stack's hostnames need, how long their
// names are, and whether the ownership marker fits a record comment.
func (v *validator) zoneQuotas(c *Cloudflare) {
	s := &v.st.Spec
	if n, max := len(s.Hostnames), DNSRecordLimit[c.Plan]; n > max {
		v.errorf("spec.hostnames", "%d hostnames need %d DNS records, and a zone on the %s plan holds at most %d records", n, n, c.Plan, max)
	}
	for i, fqdn := range s.FQDNs() {
		if len(fqdn) > MaxNameLength {
			v.errorf(fmt.Sprintf("spec.hostnames[%d]", i), "%s is %d characters long; a DNS name holds at most %d", fqdn, len(fqdn), MaxNameLength)
		}
	}
	if n, max := len(MarkerPrefix)+len(v.st.Metadata.Name), CommentLimit[c.Plan]; n > max {
		v.errorf("metadata.name", "the ownership marker %q is %d characters long; DNS record comments on the %s plan hold at most %d: shorten the stack name",
			MarkerPrefix+v.st.Metadata.Name, n, c.Plan, max)
	}
}

package cloudflare

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Ruleset phases the provider writes, and the ref infix of each.
const (
	phaseCache     = "http_request_cache_settings"
	phaseWAF       = "http_request_firewall_managed"
	phaseRateLimit = "http_ratelimit"
)

var phases = []string{phaseCache, phaseWAF, phaseRateLimit}

var phaseInfix = map[string]string{phaseCache: "cache_", phaseWAF: "waf_", phaseRateLimit: "ratelimit_"}

// ManagedRulesets maps the spec's names to Cloudflare's managed ruleset ids.
var ManagedRulesets = map[string]string{
	"cloudflare-managed": "efb7b8c949ac4650a09736fc376e9aee",
	"owasp":              "4814384a9e5d4991b9815dcfc25d2f1f",
	"free-managed":       "77454fe2d30c4220b5701f6fdfb893ba",
}

// cacheLevels maps the dashboard's words to the API's values.
var cacheLevels = map[string]string{"basic": "basic", "simplified": "simplified", "standard": "aggressive"}

// Retired settings: accepted in the spec, never sent, reported in notes.
var retiredNotes = map[string]string{
	"brotli": "Brotli was retired as a setting on 2024-06-14: Cloudflare now always compresses with Brotli, so this is satisfied without any call",
	"minify": "Auto Minify was retired on 2024-08-05 with no replacement: nothing is changed; minify assets in the build instead",
}

// Desired implements provider.Provider. It needs no network: values other
// providers produce (region ingress addresses) come from in, as
// plan.Unknown until known. If in holds the origin certificate and key
// (read back from the Kubernetes TLS Secret), they are reused.
func (p *Provider) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	var out []provider.Resource
	for _, s := range p.desiredSettings() {
		out = append(out, provider.Resource{Address: p.zoneAddr(KindZoneSetting, s.id), Doc: plan.Document{"value": s.value},
			DependsOn: p.settingDeps(s.id)})
	}
	for id := range retiredNotes {
		if p.retiredSet(id) {
			out = append(out, provider.Resource{Address: p.zoneAddr(KindZoneSetting, id),
				Doc: plan.Document{"value": "retired"}, Notes: []string{retiredNotes[id]}})
		}
	}
	out = append(out, p.desiredRules()...)
	out = append(out, p.desiredDNS(in)...)
	if p.lbEnabled() {
		out = append(out, p.desiredLB(in)...)
	}
	out = append(out, p.desiredAlertPolicy()...)
	if spec.On(p.cf.OriginCert.Enabled) {
		out = append(out, p.desiredCert())
		p.mu.Lock()
		p.inKey, p.inCert = sensitiveString(in, provider.OutOriginKey), sensitiveString(in, provider.OutOriginCert)
		p.mu.Unlock()
		p.chooseCert(in)
	}
	slices.SortStableFunc(out, func(a, b provider.Resource) int { return strings.Compare(a.Address.String(), b.Address.String()) })
	return out, nil
}

func (p *Provider) retiredSet(id string) bool {
	if id == "brotli" {
		return p.cf.Speed.Brotli != nil
	}
	return p.cf.Speed.AutoMinify != nil
}

func sensitiveString(in provider.Outputs, key string) string {
	if in == nil {
		return ""
	}
	v, ok := in.Get(key)
	if !ok {
		return ""
	}
	switch s := v.(type) {
	case plan.Sensitive:
		return s.Reveal()
	case string:
		return s
	case []byte:
		return string(s)
	}
	return ""
}

type settingValue struct {
	id    string
	value any
}

func onOff(b *bool) string {
	if spec.On(b) {
		return "on"
	}
	return "off"
}

// desiredSettings maps the spec's words to zone setting ids and API values.
func (p *Provider) desiredSettings() []settingValue {
	c := p.cf
	var out []settingValue
	add := func(id string, v any) { out = append(out, settingValue{id, v}) }
	if c.SSL.Mode != "" {
		// In automatic mode Cloudflare changes the mode on its own.
		add("ssl_automatic_mode", "custom")
		add("ssl", c.SSL.Mode)
	}
	if c.SSL.AuthenticatedOriginPulls != nil {
		add("tls_client_auth", onOff(c.SSL.AuthenticatedOriginPulls))
	}
	if c.SSL.MinTLSVersion != "" {
		add("min_tls_version", c.SSL.MinTLSVersion)
	}
	if c.SSL.AlwaysUseHTTPS != nil {
		add("always_use_https", onOff(c.SSL.AlwaysUseHTTPS))
	}
	if c.SSL.AutomaticHTTPSRewrites != nil {
		add("automatic_https_rewrites", onOff(c.SSL.AutomaticHTTPSRewrites))
	}
	if lvl, ok := cacheLevels[c.Caching.Level]; ok {
		add("cache_level", lvl)
	}
	if c.Caching.BrowserTTL != nil {
		add("browser_cache_ttl", c.Caching.BrowserTTL.Seconds())
	}
	if c.Caching.AlwaysOnline != nil {
		add("always_online", onOff(c.Caching.AlwaysOnline))
	}
	if c.Speed.RocketLoader != nil {
		add("rocket_loader", onOff(c.Speed.RocketLoader))
	}
	if c.Speed.EarlyHints != nil {
		add("early_hints", onOff(c.Speed.EarlyHints))
	}
	return out
}

// settingDeps orders settings the service checks against each other: the
// SSL mode can change only in custom mode, and Authenticated Origin Pulls
// need the SSL mode set first.
func (p *Provider) settingDeps(id string) []plan.Address {
	switch {
	case id == "ssl":
		return []plan.Address{p.zoneAddr(KindZoneSetting, "ssl_automatic_mode")}
	case id == "tls_client_auth" && p.cf.SSL.Mode != "":
		return []plan.Address{p.zoneAddr(KindZoneSetting, "ssl")}
	}
	return nil
}

// hostExpr limits a rule to the stack's hostnames, so stacks can share a zone.
func (p *Provider) hostExpr() string {
	var q []string
	for _, h := range p.st.Spec.FQDNs() {
		q = append(q, fmt.Sprintf("%q", h))
	}
	return "http.host in {" + strings.Join(q, " ") + "}"
}

// pathExpr turns "/static/*" into a prefix match and "/graphql" into equality.
func pathExpr(path string) string {
	if prefix, ok := strings.CutSuffix(path, "*"); ok {
		return fmt.Sprintf("starts_with(http.request.uri.path, %q)", prefix)
	}
	return fmt.Sprintf("http.request.uri.path eq %q", path)
}

func (p *Provider) rule(phase, name string, doc plan.Document) provider.Resource {
	ref := p.refPrefix() + phaseInfix[phase] + name
	doc["phase"] = phase
	doc["ref"] = ref
	doc["enabled"] = true
	doc["description"] = p.marker() + ": " + name
	return provider.Resource{Address: p.zoneAddr(KindRule, ref), Doc: doc}
}

func (p *Provider) desiredRules() []provider.Resource {
	var out []provider.Resource
	for _, cr := range p.cf.CacheRules {
		ap := plan.Document{"cache": cr.Cache}
		if cr.Cache && cr.EdgeTTL != nil {
			ap["edge_ttl"] = plan.Document{"mode": "override_origin", "default": cr.EdgeTTL.Seconds()}
		}
		if cr.Cache && cr.BrowserTTL != nil {
			ap["browser_ttl"] = plan.Document{"mode": "override_origin", "default": cr.BrowserTTL.Seconds()}
		}
		out = append(out, p.rule(phaseCache, cr.Name, plan.Document{
			"action": "set_cache_settings", "expression": "(" + p.hostExpr() + ") and " + pathExpr(cr.Path), "action_parameters": ap}))
	}
	for _, name := range p.cf.WAF.ManagedRulesets {
		ap := plan.Document{"id": ManagedRulesets[name]}
		if ov := owaspOverrides(p.cf.WAF.OWASP); name == "owasp" && ov != nil {
			ap["overrides"] = ov
		}
		out = append(out, p.rule(phaseWAF, name, plan.Document{
			"action": "execute", "expression": p.hostExpr(), "action_parameters": ap}))
	}
	for _, rl := range p.cf.RateLimits {
		out = append(out, p.rule(phaseRateLimit, rl.Name, plan.Document{
			"action": rl.Action, "expression": p.rateLimitExpr(rl.Path, p.effectivePlan()),
			"ratelimit": plan.Document{
				"characteristics":     []any{"cf.colo.id", "ip.src"},
				"period":              rl.Period.Seconds(),
				"requests_per_period": rl.Requests,
				"mitigation_timeout":  rl.MitigationTimeout.Seconds(),
			}}))
	}
	return out
}

// rateLimitExpr scopes a rate limit to the stack's hostnames, except on
// the Free plan, whose rate limiting rules may match on the path only.
func (p *Provider) rateLimitExpr(path, tier string) string {
	if tier == "free" {
		return pathExpr(path)
	}
	return "(" + p.hostExpr() + ") and " + pathExpr(path)
}

// regionAddress is a region's origin: the spec's override, or the
// Kubernetes provider's output (Unknown until known).
func regionAddress(r *spec.Region, in provider.Outputs) any {
	if r.IngressAddress != "" {
		return r.IngressAddress
	}
	key := fmt.Sprintf(provider.OutIngressAddress, r.Name)
	if in == nil {
		return plan.Unknown{From: key}
	}
	return in.Value(key)
}

func recordType(addr any) any {
	s, ok := addr.(string)
	if !ok {
		return addr
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Is4() {
			return "A"
		}
		return "AAAA"
	}
	return "CNAME"
}

func (p *Provider) desiredDNS(in provider.Outputs) []provider.Resource {
	fqdns := p.st.Spec.FQDNs()
	var out []provider.Resource
	lb := p.lbHost()
	for i, h := range fqdns {
		doc := plan.Document{"name": h, "type": "CNAME", "content": lb, "proxied": true, "ttl": 1, "comment": p.marker()}
		var deps []plan.Address
		if i == 0 {
			if p.lbEnabled() {
				continue // served by the load balancer of the same name
			}
			addr := regionAddress(p.st.Spec.PrimaryRegion(), in)
			doc["type"], doc["content"] = recordType(addr), addr
		} else if p.lbEnabled() {
			deps = []plan.Address{p.zoneAddr(KindLB, lb)}
		} else {
			deps = []plan.Address{p.zoneAddr(KindDNSRecord, lb)}
		}
		out = append(out, provider.Resource{Address: p.zoneAddr(KindDNSRecord, h), Doc: doc, DependsOn: deps, ReplaceOn: []string{"type"}})
	}
	return out
}

// defaultPools is every region, primary first.
func (p *Provider) defaultPools() []any {
	var out []any
	if pr := p.st.Spec.PrimaryRegion(); pr != nil {
		out = append(out, pr.Name)
	}
	for _, r := range p.st.Spec.Regions {
		if !slices.Contains(out, any(r.Name)) {
			out = append(out, r.Name)
		}
	}
	return out
}

func (p *Provider) desiredLB(in provider.Outputs) []provider.Resource {
	lbc := p.cf.LoadBalancer
	mon := lbc.Monitor
	monAddr := p.accountAddr(KindMonitor, monitorName)
	out := []provider.Resource{{Address: monAddr, Doc: plan.Document{
		"type": "https", "method": "GET", "path": mon.Path, "port": mon.Port,
		"expected_codes": mon.ExpectedCodes, "interval": durSeconds(mon.Interval), "timeout": durSeconds(mon.Timeout),
		"retries": intOr(mon.Retries), "header": plan.Document{"Host": []any{p.lbHost()}},
		"follow_redirects": false, "allow_insecure": false, "description": p.marker(),
	}}}
	var poolAddrs []plan.Address
	for i := range p.st.Spec.Regions {
		r := &p.st.Spec.Regions[i]
		a := p.accountAddr(KindPool, r.Name)
		poolAddrs = append(poolAddrs, a)
		out = append(out, provider.Resource{Address: a, DependsOn: []plan.Address{monAddr}, Doc: plan.Document{
			"name": PoolName(p.st.Metadata.Name, r.Name), "description": p.marker(), "enabled": true,
			"minimum_origins": 1, "monitor": monitorName,
			"origins": []any{plan.Document{"name": r.Name, "address": regionAddress(r, in), "enabled": true, "weight": 1}},
		}})
	}
	defaults := p.defaultPools()
	regionPools := plan.Document{}
	for _, r := range p.st.Spec.Regions {
		// Each list is in failover order: the region's own pool, then the others.
		order := []any{r.Name}
		for _, d := range defaults {
			if d != r.Name {
				order = append(order, d)
			}
		}
		for _, g := range r.GeoRegions {
			regionPools[g] = order
		}
	}
	doc := plan.Document{
		"name": p.lbHost(), "description": p.marker(), "enabled": true, "proxied": true,
		"steering_policy": lbc.Steering, "session_affinity": lbc.SessionAffinity,
		"fallback_pool": lbc.FallbackRegion, "default_pools": defaults, "region_pools": regionPools,
	}
	out = append(out, provider.Resource{Address: p.zoneAddr(KindLB, p.lbHost()), Doc: doc, DependsOn: poolAddrs})
	return out
}

func (p *Provider) certHostnames() []any {
	hs := slices.Clone(p.st.Spec.FQDNs())
	slices.Sort(hs)
	out := make([]any, len(hs))
	for i, h := range hs {
		out[i] = h
	}
	return out
}

func (p *Provider) desiredCert() provider.Resource {
	oc := p.cf.OriginCert
	return provider.Resource{
		Address:   p.zoneAddr(KindOriginCert, p.lbHost()),
		Doc:       plan.Document{"hostnames": p.certHostnames(), "request_type": oc.Type, "requested_validity": oc.ValidityDays},
		ReplaceOn: []string{"hostnames", "request_type", "requested_validity"},
		Produces:  []string{provider.OutOriginCert, provider.OutOriginKey},
	}
}

func durSeconds(d *spec.Duration) int {
	if d == nil {
		return 0
	}
	return d.Seconds()
}

func intOr(i *int) int {
	if i == nil {
		return 0
	}
	return *i
}

package cfemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Managed ruleset ids deployable from a zone's http_request_firewall_managed phase.
const (
	ManagedCloudflare = "efb7b8c949ac4650a09736fc376e9aee"
	ManagedOWASP      = "4814384a9e5d4991b9815dcfc25d2f1f"
	ManagedFree       = "77454fe2d30c4220b5701f6fdfb893ba"
)

// Rule is one rule of a phase entrypoint ruleset.
type Rule struct {
	ID               string         `json:"id,omitempty"`
	Ref              string         `json:"ref,omitempty"`
	Version          string         `json:"version,omitempty"`
	Action           string         `json:"action"`
	Expression       string         `json:"expression"`
	Description      string         `json:"description,omitempty"`
	Enabled          *bool          `json:"enabled,omitempty"`
	ActionParameters map[string]any `json:"action_parameters,omitempty"`
	Ratelimit        *Ratelimit     `json:"ratelimit,omitempty"`
	LastUpdated      string         `json:"last_updated,omitempty"`
}

// Ratelimit is a rate-limiting rule's counting configuration.
type Ratelimit struct {
	Characteristics   []string `json:"characteristics"`
	Period            int      `json:"period"`
	RequestsPerPeriod int      `json:"requests_per_period"`
	MitigationTimeout int      `json:"mitigation_timeout"`
	CountingExpr      string   `json:"counting_expression,omitempty"`
}

type ruleset struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Kind        string `json:"kind"`
	Phase       string `json:"phase"`
	Version     string `json:"version"`
	LastUpdated string `json:"last_updated"`
	Rules       []Rule `json:"rules"`
	version     int
}

// phaseActions are the actions each supported zone phase accepts.
var phaseActions = map[string][]string{
	"http_request_cache_settings":   {"set_cache_settings"},
	"http_request_firewall_managed": {"execute", "skip"},
	"http_ratelimit":                {"block", "challenge", "js_challenge", "managed_challenge", "log"},
	"http_request_firewall_custom":  {"block", "challenge", "js_challenge", "managed_challenge", "log", "skip"},
}

// Rate-limiting limits per plan: allowed periods and mitigation timeouts
// (seconds) and the number of rules.
type rlLimits struct {
	periods, timeouts []int
	rules             int
}

var rlAllowed = []int{10, 15, 20, 30, 40, 45, 60, 90, 120, 180, 240, 300, 480, 600, 900, 1200, 1800, 2400, 3600, 65535, 86400}

func upTo(n int) []int {
	var out []int
	for _, v := range rlAllowed {
		if v <= n {
			out = append(out, v)
		}
	}
	return out
}

var rlPlan = map[string]rlLimits{
	Free:       {periods: []int{10}, timeouts: []int{10}, rules: 1},
	Pro:        {periods: upTo(60), timeouts: upTo(3600), rules: 2},
	Business:   {periods: upTo(600), timeouts: upTo(86400), rules: 5},
	Enterprise: {periods: upTo(3600), timeouts: upTo(86400), rules: 100},
}

var cacheRuleLimit = map[string]int{Free: 10, Pro: 25, Business: 50, Enterprise: 300}

// PhaseRules returns a copy of a phase's rules (nil when the phase has no entrypoint).
func (s *Server) PhaseRules(zoneName, phase string) []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.zoneByName(zoneName).phases[phase]
	if !ok {
		return nil
	}
	return slices.Clone(rs.Rules)
}

func (s *Server) getPhase(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	phase := r.PathValue("phase")
	rs, ok := z.phases[phase]
	if !ok {
		writeErr(w, http.StatusNotFound, 10003, fmt.Sprintf("could not find entrypoint ruleset in the %s phase", phase))
		return
	}
	writeOK(w, rs)
}

func (s *Server) putPhase(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Rules       []Rule `json:"rules"`
	}
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	phase := r.PathValue("phase")
	if _, ok := phaseActions[phase]; !ok {
		writeErr(w, http.StatusBadRequest, 20217, fmt.Sprintf("'%s' is not a valid phase for a zone entrypoint", phase))
		return
	}
	if errs := validateRules(z.Plan, phase, body.Rules); len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	rs, ok := z.phases[phase]
	if !ok {
		rs = &ruleset{ID: s.nextID(), Name: "default", Kind: "zone", Phase: phase}
		z.phases[phase] = rs
	}
	old := map[string]Rule{}
	for _, ru := range rs.Rules {
		old[ru.Ref] = ru
	}
	rs.version++
	now := s.stamp()
	for i := range body.Rules {
		ru := &body.Rules[i]
		if prev, ok := old[ru.Ref]; ok && ru.Ref != "" {
			ru.ID = prev.ID
		} else if ru.ID == "" {
			ru.ID = s.nextID()
		}
		if ru.Ref == "" {
			ru.Ref = ru.ID
		}
		if ru.Enabled == nil {
			t := true
			ru.Enabled = &t
		}
		ru.Version = fmt.Sprint(rs.version)
		ru.LastUpdated = now
	}
	if body.Name != "" {
		rs.Name = body.Name
	}
	rs.Description = body.Description
	rs.Rules = body.Rules
	rs.Version = fmt.Sprint(rs.version)
	rs.LastUpdated = now
	writeOK(w, rs)
}

func validateRules(plan, phase string, rules []Rule) []apiError {
	var errs []apiError
	bad := func(i int, format string, args ...any) {
		errs = append(errs, apiError{20021, fmt.Sprintf("rules[%d]: ", i) + fmt.Sprintf(format, args...)})
	}
	refs := map[string]int{}
	for i, ru := range rules {
		if ru.Ref != "" {
			if j, dup := refs[ru.Ref]; dup {
				bad(i, "ref %q is already used by rules[%d]; refs must be unique within a ruleset", ru.Ref, j)
			}
			refs[ru.Ref] = i
		}
		if strings.TrimSpace(ru.Expression) == "" {
			bad(i, "expression is required")
		} else if e, err := parseExpr(ru.Expression); err != nil {
			bad(i, "expression: %v", err)
		} else {
			for _, msg := range checkExprPlan(plan, e) {
				bad(i, "expression: %s", msg)
			}
			if phase == "http_ratelimit" {
				for _, msg := range checkRateLimitExpr(plan, e) {
					bad(i, "expression: %s", msg)
				}
			}
		}
		if !slices.Contains(phaseActions[phase], ru.Action) {
			bad(i, "action %q is not allowed in phase %s", ru.Action, phase)
			continue
		}
		switch phase {
		case "http_ratelimit":
			errs = append(errs, validateRateLimit(plan, i, ru)...)
		case "http_request_firewall_managed":
			if ru.Action != "execute" {
				continue
			}
			id, _ := ru.ActionParameters["id"].(string)
			switch id {
			case ManagedCloudflare, ManagedOWASP:
				if !paid(plan) {
					bad(i, "managed ruleset %s requires a Pro plan or higher", id)
				}
			case ManagedFree:
			default:
				bad(i, "action_parameters.id %q is not a managed ruleset this zone can deploy", id)
			}
			for _, msg := range validateOverrides(plan, id, ru.ActionParameters["overrides"]) {
				bad(i, "%s", msg)
			}
		case "http_request_cache_settings":
			if _, ok := ru.ActionParameters["cache"].(bool); !ok {
				bad(i, "action_parameters.cache must be true or false")
			}
			if et, ok := ru.ActionParameters["edge_ttl"].(map[string]any); ok {
				switch et["mode"] {
				case "respect_origin", "bypass_by_default", "override_origin":
				default:
					bad(i, "action_parameters.edge_ttl.mode %v is invalid", et["mode"])
				}
			}
		}
	}
	switch phase {
	case "http_ratelimit":
		if lim := rlPlan[plan]; len(rules) > lim.rules {
			errs = append(errs, apiError{20022, fmt.Sprintf("the %s plan allows %d rate limiting rules; this ruleset has %d", plan, lim.rules, len(rules))})
		}
	case "http_request_cache_settings":
		if n := cacheRuleLimit[plan]; len(rules) > n {
			errs = append(errs, apiError{20022, fmt.Sprintf("the %s plan allows %d cache rules; this ruleset has %d", plan, n, len(rules))})
		}
	}
	return errs
}

func validateRateLimit(plan string, i int, ru Rule) []apiError {
	var errs []apiError
	bad := func(format string, args ...any) {
		errs = append(errs, apiError{20021, fmt.Sprintf("rules[%d]: ", i) + fmt.Sprintf(format, args...)})
	}
	rl := ru.Ratelimit
	if rl == nil {
		bad("ratelimit is required in the http_ratelimit phase")
		return errs
	}
	lim := rlPlan[plan]
	if !slices.Contains(rl.Characteristics, "cf.colo.id") {
		bad("ratelimit.characteristics must include cf.colo.id")
	}
	if !slices.Contains(lim.periods, rl.Period) {
		bad("ratelimit.period %d is not allowed on the %s plan (allowed: %v)", rl.Period, plan, lim.periods)
	}
	challenge := strings.Contains(ru.Action, "challenge")
	switch {
	case challenge && plan != Enterprise:
		if rl.MitigationTimeout != 0 {
			bad("ratelimit.mitigation_timeout must be 0 for challenge actions below Enterprise")
		}
	case !slices.Contains(lim.timeouts, rl.MitigationTimeout):
		bad("ratelimit.mitigation_timeout %d is not allowed on the %s plan (allowed: %v)", rl.MitigationTimeout, plan, lim.timeouts)
	}
	if rl.RequestsPerPeriod < 1 {
		bad("ratelimit.requests_per_period must be at least 1")
	}
	for _, c := range rl.Characteristics {
		if c != "cf.colo.id" && !slices.Contains(rateLimitCharacteristics[plan], c) && (plan != Enterprise || !enterpriseCharacteristic(c)) {
			bad("ratelimit.characteristics: %q is not available on the %s plan (allowed: cf.colo.id, %s)", c, plan, strings.Join(rateLimitCharacteristics[plan], ", "))
		}
	}
	if rl.CountingExpr != "" {
		if !planAllows(plan, Business) {
			bad("ratelimit.counting_expression: not entitled: counting expressions require the Business plan or higher; the zone is on %s", plan)
		} else if e, err := parseExpr(rl.CountingExpr); err != nil {
			bad("ratelimit.counting_expression: %v", err)
		} else {
			for _, f := range e.fields {
				if min := exprFields[f].minPlan; !planAllows(plan, min) {
					bad("ratelimit.counting_expression: not entitled: the field %s requires the %s plan or higher", f, min)
				}
			}
		}
	}
	return errs
}

// checkRateLimitExpr applies the rate-limiting phase's narrower field list
// and the Business-only matches operator.
func checkRateLimitExpr(plan string, e *parsedExpr) []string {
	var out []string
	if slices.Contains(e.operators, "matches") && !planAllows(plan, Business) {
		out = append(out, "the matches operator in rate limiting rules requires a Business plan or higher")
	}
	if plan == Enterprise {
		return out
	}
	for _, f := range e.fields {
		if !slices.Contains(rateLimitFields[plan], f) {
			out = append(out, fmt.Sprintf("rate limiting rules on the %s plan may only match on %s; %s needs a higher plan", plan, strings.Join(rateLimitFields[plan], ", "), f))
		}
	}
	return out
}

func (s *Server) legacyRateLimits(w http.ResponseWriter, _ *http.Request) {
	writeErr(w, http.StatusGone, 10000, "The Rate Limiting API is deprecated; use the http_ratelimit phase of the Rulesets API")
}

package cloudflare

import (
	"strings"
	"testing"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestRulesPassTheExpressionParserOnEveryTier applies the guide's rules on
// each paid tier: the emulator parses every expression and refuses fields
// and rate-limit features above the zone's plan, as the service does.
func TestRulesPassTheExpressionParserOnEveryTier(t *testing.T) {
	for _, tier := range []string{cfemu.Pro, cfemu.Business, cfemu.Enterprise} {
		t.Run(tier, func(t *testing.T) {
			e := newEnv(t, tier)
			e.st.Spec.Cloudflare.Plan = tier
			e.run(provider.Options{})
			if n := len(e.emu.PhaseRules(testZone, phaseRateLimit)); n != 1 {
				t.Errorf("rate limit rules = %d", n)
			}
			if _, next, _ := e.mustPlan(provider.Options{}); len(pending(next)) != 0 {
				t.Errorf("second plan: %v", pending(next))
			}
		})
	}
}

func TestOWASPOverrides(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.st.Spec.Cloudflare.WAF.OWASP = &spec.OWASP{ParanoiaLevel: 2, ScoreThreshold: "high", Action: "managed_challenge"}
	e.run(provider.Options{})
	var owasp *cfemu.Rule
	for _, r := range e.emu.PhaseRules(testZone, phaseWAF) {
		if r.ActionParameters["id"] == cfemu.ManagedOWASP {
			owasp = &r
		}
	}
	if owasp == nil {
		t.Fatal("no OWASP rule deployed")
	}
	ov, _ := owasp.ActionParameters["overrides"].(map[string]any)
	cats, _ := ov["categories"].([]any)
	var disabled []string
	for _, c := range cats {
		m := c.(map[string]any)
		if m["enabled"] == false {
			disabled = append(disabled, m["category"].(string))
		}
	}
	if strings.Join(disabled, ",") != "paranoia-level-3,paranoia-level-4" || len(cats) != 4 {
		t.Errorf("categories = %v", cats)
	}
	rules, _ := ov["rules"].([]any)
	if len(rules) != 1 || rules[0].(map[string]any)["score_threshold"] != float64(25) || rules[0].(map[string]any)["action"] != "managed_challenge" {
		t.Errorf("rule overrides = %v", rules)
	}
	if _, next, _ := e.mustPlan(provider.Options{}); len(pending(next)) != 0 {
		t.Errorf("plan after applying overrides: %v", pending(next))
	}

	// Changing the tuning is an update of the OWASP rule alone, showing the field.
	e.st.Spec.Cloudflare.WAF.OWASP.ScoreThreshold = "low"
	_, changes, _ := e.mustPlan(provider.Options{})
	got := pending(changes)
	if len(got) != 1 || !strings.Contains(got[0], "owasp") || !strings.HasPrefix(got[0], string(plan.Update)) {
		t.Fatalf("plan after changing the threshold = %v", got)
	}
	e.run(provider.Options{})

	// Removing the tuning goes back to Cloudflare's defaults.
	e.st.Spec.Cloudflare.WAF.OWASP = nil
	e.run(provider.Options{})
	for _, r := range e.emu.PhaseRules(testZone, phaseWAF) {
		if _, ok := r.ActionParameters["overrides"]; ok {
			t.Errorf("overrides left after removing the tuning: %v", r.ActionParameters)
		}
	}
}

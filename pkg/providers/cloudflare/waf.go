package cloudflare

import (
	"fmt"
	"maps"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// owaspOverrides turns the spec's OWASP tuning into the execute rule's
// overrides: the paranoia level enables the tags of the levels up to it,
// and the anomaly-score rule carries the threshold and the action. Nil when
// nothing is tuned, so Cloudflare's defaults stay in force.
func owaspOverrides(o *spec.OWASP) plan.Document {
	if o == nil || (o.ParanoiaLevel == 0 && o.ScoreThreshold == "" && o.Action == "") {
		return nil
	}
	ov := plan.Document{}
	if o.ParanoiaLevel > 0 {
		// Every level is stated, so the result does not depend on which
		// levels Cloudflare enables by default.
		var cats []any
		for level := 1; level <= 4; level++ {
			cats = append(cats, plan.Document{"category": fmt.Sprintf("paranoia-level-%d", level), "enabled": level <= o.ParanoiaLevel})
		}
		ov["categories"] = cats
	}
	rule := plan.Document{"id": spec.OWASPAnomalyRuleID}
	if o.ScoreThreshold != "" {
		rule["score_threshold"] = spec.OWASPScoreThresholds[o.ScoreThreshold]
	}
	if o.Action != "" {
		rule["action"] = o.Action
	}
	if len(rule) > 1 {
		ov["rules"] = []any{rule}
	}
	if len(ov) == 0 {
		return nil
	}
	return ov
}

// keepOverrides puts a managed rule's live overrides back after projecting
// the live rule onto the desired one: nekoctl owns the whole execute rule,
// so tuning removed from the spec must show as a change, not vanish.
func keepOverrides(projected, live plan.Document) plan.Document {
	liveAP, _ := live["action_parameters"].(plan.Document)
	ov, ok := liveAP["overrides"]
	ap, isDoc := projected["action_parameters"].(plan.Document)
	if !ok || !isDoc {
		return projected
	}
	if _, has := ap["overrides"]; !has {
		cp := maps.Clone(ap)
		cp["overrides"] = ov
		projected["action_parameters"] = cp
	}
	return projected
}

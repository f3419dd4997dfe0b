package cfemu

import (
	"fmt"
	"slices"
)

// OWASPAnomalyRule is the OWASP Core Ruleset's last rule (949110, "Inbound
// Anomaly Score Exceeded"): the only rule whose override takes a score
// threshold.
const OWASPAnomalyRule = "6179ae15870a4bb7b2d480d4843b323c"

// managedCategories are the tags each managed ruleset's overrides may name.
var managedCategories = map[string][]string{
	ManagedOWASP:      {"paranoia-level-1", "paranoia-level-2", "paranoia-level-3", "paranoia-level-4"},
	ManagedCloudflare: {"wordpress", "drupal", "joomla", "php", "xss", "sqli", "rce", "log4j", "cve", "zero-day", "cisco", "microsoft-exchange", "wordpress-plugin"},
	ManagedFree:       {"log4j", "cve"},
}

// managedRuleIDs are the rules of each managed ruleset that an override can
// name in the emulator: the OWASP anomaly-score rule.
var managedRuleIDs = map[string][]string{ManagedOWASP: {OWASPAnomalyRule}}

var overrideActions = []string{"block", "challenge", "js_challenge", "managed_challenge", "log"}

// validateOverrides checks an execute rule's overrides the way the Rulesets
// API does: known categories and rules, valid actions (log is Enterprise
// only), and score_threshold only on the OWASP anomaly-score rule.
func validateOverrides(plan, rulesetID string, raw any) []string {
	if raw == nil {
		return nil
	}
	ov, ok := raw.(map[string]any)
	if !ok {
		return []string{"action_parameters.overrides must be an object"}
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	checkAction := func(path string, a any) {
		if a == nil {
			return
		}
		s, _ := a.(string)
		switch {
		case !slices.Contains(overrideActions, s):
			bad("%s.action %v is not one of %v", path, a, overrideActions)
		case s == "log" && plan != Enterprise:
			bad("%s.action: not entitled: the log action requires the Enterprise plan; the zone is on %s", path, plan)
		}
	}
	checkEnabled := func(path string, m map[string]any) {
		if e, ok := m["enabled"]; ok {
			if _, isBool := e.(bool); !isBool {
				bad("%s.enabled must be true or false", path)
			}
		}
	}
	for key := range ov {
		if !slices.Contains([]string{"action", "enabled", "categories", "rules", "sensitivity_level"}, key) {
			bad("action_parameters.overrides.%s is not a known override", key)
		}
	}
	checkAction("action_parameters.overrides", ov["action"])
	cats, _ := ov["categories"].([]any)
	for i, c := range cats {
		path := fmt.Sprintf("action_parameters.overrides.categories[%d]", i)
		m, _ := c.(map[string]any)
		name, _ := m["category"].(string)
		if !slices.Contains(managedCategories[rulesetID], name) {
			bad("%s.category %q is not a category of ruleset %s", path, name, rulesetID)
		}
		checkAction(path, m["action"])
		checkEnabled(path, m)
	}
	rules, _ := ov["rules"].([]any)
	for i, r := range rules {
		path := fmt.Sprintf("action_parameters.overrides.rules[%d]", i)
		m, _ := r.(map[string]any)
		id, _ := m["id"].(string)
		if !slices.Contains(managedRuleIDs[rulesetID], id) {
			bad("%s.id %q is not a rule of ruleset %s", path, id, rulesetID)
			continue
		}
		checkAction(path, m["action"])
		checkEnabled(path, m)
		if st, ok := m["score_threshold"]; ok {
			n, isNum := st.(float64)
			switch {
			case id != OWASPAnomalyRule:
				bad("%s.score_threshold is only valid on the OWASP anomaly score rule", path)
			case !isNum || n != float64(int(n)) || n < 1:
				bad("%s.score_threshold must be a positive integer, found %v", path, st)
			}
		}
	}
	return errs
}

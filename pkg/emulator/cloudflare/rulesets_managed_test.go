package cfemu

import (
	"strings"
	"testing"
)

func TestManagedRulesetOverrides(t *testing.T) {
	s := New(t)
	pro := s.AddZone("pro.example", Pro)
	ent := s.AddZone("ent.example", Enterprise)
	put := func(z string, overrides map[string]any) reply {
		rule := map[string]any{"action": "execute", "expression": "true",
			"action_parameters": map[string]any{"id": ManagedOWASP, "overrides": overrides}}
		return call(t, s, "PUT", "/zones/"+z+"/rulesets/phases/http_request_firewall_managed/entrypoint", map[string]any{"rules": []any{rule}})
	}
	anomaly := func(fields map[string]any) map[string]any {
		fields["id"] = OWASPAnomalyRule
		return map[string]any{"rules": []any{fields}}
	}
	tests := []struct {
		name string
		r    reply
		want string
	}{
		{"paranoia level 2", put(pro, map[string]any{"categories": []any{
			map[string]any{"category": "paranoia-level-3", "enabled": false},
			map[string]any{"category": "paranoia-level-4", "enabled": false}}}), ""},
		{"threshold and action", put(pro, anomaly(map[string]any{"score_threshold": 25, "action": "managed_challenge"})), ""},
		{"unknown category", put(pro, map[string]any{"categories": []any{map[string]any{"category": "paranoia-level-5", "enabled": false}}}), `category "paranoia-level-5" is not a category`},
		{"unknown rule", put(pro, map[string]any{"rules": []any{map[string]any{"id": "abc", "action": "block"}}}), `id "abc" is not a rule`},
		{"bad action", put(pro, anomaly(map[string]any{"action": "drop"})), "action drop is not one of"},
		{"log below enterprise", put(pro, anomaly(map[string]any{"action": "log"})), "not entitled: the log action requires the Enterprise plan"},
		{"log on enterprise", put(ent, anomaly(map[string]any{"action": "log"})), ""},
		{"fractional threshold", put(pro, anomaly(map[string]any{"score_threshold": 2.5})), "must be a positive integer"},
		{"unknown override", put(pro, map[string]any{"paranoia": 2}), "overrides.paranoia is not a known override"},
		{"enabled not bool", put(pro, map[string]any{"categories": []any{map[string]any{"category": "paranoia-level-4", "enabled": "no"}}}), "enabled must be true or false"},
	}
	for _, tt := range tests {
		switch {
		case tt.want == "" && !tt.r.Success:
			t.Errorf("%s: refused: %s", tt.name, tt.r.messages())
		case tt.want != "" && (tt.r.Success || !strings.Contains(tt.r.messages(), tt.want)):
			t.Errorf("%s: success=%v %q, want an error containing %q", tt.name, tt.r.Success, tt.r.messages(), tt.want)
		}
	}
	// Overrides are stored and read back as sent.
	put(pro, anomaly(map[string]any{"score_threshold": 60, "action": "block"}))
	rules := s.PhaseRules("pro.example", "http_request_firewall_managed")
	ov, _ := rules[0].ActionParameters["overrides"].(map[string]any)
	got, _ := ov["rules"].([]any)
	if len(got) != 1 || got[0].(map[string]any)["score_threshold"] != float64(60) {
		t.Errorf("stored overrides = %v", rules[0].ActionParameters)
	}
}

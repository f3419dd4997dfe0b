package cfemu

import (
	"strings"
	"testing"
)

func TestParseExprAccepts(t *testing.T) {
	for _, src := range []string{
		"true",
		`http.host in {"api.example.com" "www.api.example.com"}`,
		`(http.host in {"api.example.com"}) and http.request.uri.path eq "/graphql"`,
		`(http.host in {"api.example.com"}) and starts_with(http.request.uri.path, "/static/")`,
		`http.request.uri.path == "/a" || not ssl`,
		`ip.src in {192.0.2.0/24 2001:db8::/32 198.51.100.7}`,
		`ip.src ne 192.0.2.1 and cf.colo.id in {1..10 20}`,
		`any(http.request.headers["x-api-key"][*] contains "test")`,
		`lower(http.request.uri.path) matches r"^/v[0-9]+/"`,
		`http.request.uri.path ~ r#"a"b"#`,
		`http.user_agent strict wildcard "curl/*"`,
		`len(http.request.uri.query) gt 100 xor ip.src.country eq "FR"`,
		`http.request.headers["cookie"][0] contains "\x41\"q\\"`,
		`ip.src in $office_ranges`,
		`not (http.request.method in {"GET" "HEAD"})`,
	} {
		if _, err := parseExpr(src); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
}

func TestParseExprRefuses(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{`http.hots eq "a"`, `unknown identifier "http.hots"`},
		{`http.host eq "a`, "unterminated string"},
		{`http.host eq 5`, "expected a Bytes value after eq"},
		{`cf.colo.id contains "a"`, "operator contains cannot be applied to a Int"},
		{`http.host`, "the expression is of type Bytes"},
		{`http.host eq "a" and`, "unexpected end"},
		{`(http.host eq "a"`, `expected ")"`},
		{`http.host in {}`, "an empty set"},
		{`http.host in {"a" 1}`, "expected a Bytes in the set"},
		{`lowr(http.host) eq "a"`, `unknown function "lowr"`},
		{`starts_with(cf.colo.id, "a")`, "needs a Bytes field"},
		{`http.host eq "a" http.host eq "b"`, "after a complete expression"},
		{`ip.src eq 192.0.2.0/24`, "expected a Ip value"},
		{`http.host eq "\q"`, `invalid character escape \q`},
		{`http.request.headers[1] eq "a"`, "cannot index"},
		{`http.host eq "a" & http.host eq "b"`, "unexpected character"},
		{strings.Repeat("x", 5000), "limit is 4096"},
	} {
		_, err := parseExpr(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%.40s: error %v, want one containing %q", tt.src, err, tt.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "Filter parsing error (1:") {
			t.Errorf("%.40s: error %q lacks the service's position prefix", tt.src, err)
		}
	}
}

// TestRulesetExpressionsThroughAPI sends rules through the Rulesets API: the
// emulator must refuse what the real service refuses (syntax, fields the
// zone's plan lacks, rate-limit features above the plan) and accept the rest.
func TestRulesetExpressionsThroughAPI(t *testing.T) {
	s := New(t)
	zones := map[string]string{}
	for _, plan := range []string{Free, Pro, Business, Enterprise} {
		zones[plan] = s.AddZone(plan+".example", plan)
	}
	put := func(plan, phase string, rule map[string]any) reply {
		return call(t, s, "PUT", "/zones/"+zones[plan]+"/rulesets/phases/"+phase+"/entrypoint", map[string]any{"rules": []any{rule}})
	}
	cache := func(expr string) map[string]any {
		return map[string]any{"action": "set_cache_settings", "expression": expr, "action_parameters": map[string]any{"cache": false}}
	}
	rl := func(expr string, chars []string, counting string) map[string]any {
		r := rlRule("a", 10, 10, chars...)
		r["expression"] = expr
		if counting != "" {
			r["ratelimit"].(map[string]any)["counting_expression"] = counting
		}
		return r
	}
	hostPath := `(http.host in {"api.x.example"}) and http.request.uri.path eq "/graphql"`
	tests := []struct {
		name string
		r    reply
		want string // empty: accepted
	}{
		{"syntax error", put(Pro, "http_request_cache_settings", cache(`http.host eq`)), "Filter parsing error"},
		{"unknown field", put(Pro, "http_request_cache_settings", cache(`http.hostname eq "a"`)), `unknown identifier "http.hostname"`},
		{"bot score on business", put(Business, "http_request_cache_settings", cache(`cf.bot_management.score lt 30`)), "not entitled: the field cf.bot_management.score requires the enterprise plan"},
		{"bot score on enterprise", put(Enterprise, "http_request_cache_settings", cache(`cf.bot_management.score lt 30`)), ""},
		{"waf class on pro", put(Pro, "http_request_cache_settings", cache(`cf.waf.score.class eq "attack"`)), "requires the business plan"},
		{"response field outside counting", put(Enterprise, "http_request_cache_settings", cache(`http.response.code eq 404`)), "only available in a rate limiting rule's counting expression"},
		{"free path only", put(Free, "http_ratelimit", rl(`http.request.uri.path eq "/graphql"`, []string{"cf.colo.id", "ip.src"}, "")), ""},
		{"free host refused", put(Free, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "ip.src"}, "")), "may only match on http.request.uri.path"},
		{"pro host and path", put(Pro, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "ip.src"}, "")), ""},
		{"pro user agent refused", put(Pro, "http_ratelimit", rl(`http.user_agent contains "bot"`, []string{"cf.colo.id", "ip.src"}, "")), "http.user_agent needs a higher plan"},
		{"pro matches refused", put(Pro, "http_ratelimit", rl(`http.request.uri.path matches "^/g"`, []string{"cf.colo.id", "ip.src"}, "")), "matches operator"},
		{"pro counting refused", put(Pro, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "ip.src"}, `http.response.code eq 401`)), "counting expressions require the Business plan"},
		{"business counting", put(Business, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "ip.src"}, `http.response.code eq 401`)), ""},
		{"business bad counting", put(Business, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "ip.src"}, `http.response.code eq`)), "counting_expression: Filter parsing error"},
		{"pro NAT characteristic refused", put(Pro, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "cf.unique_visitor_id"}, "")), `"cf.unique_visitor_id" is not available on the pro plan`},
		{"business NAT characteristic", put(Business, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", "cf.unique_visitor_id"}, "")), ""},
		{"business header characteristic refused", put(Business, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", `http.request.headers["x-api-key"]`}, "")), "is not available on the business plan"},
		{"enterprise header characteristic", put(Enterprise, "http_ratelimit", rl(hostPath, []string{"cf.colo.id", `http.request.headers["x-api-key"]`}, "")), ""},
	}
	for _, tt := range tests {
		switch {
		case tt.want == "" && !tt.r.Success:
			t.Errorf("%s: refused: %s", tt.name, tt.r.messages())
		case tt.want != "" && (tt.r.Success || !strings.Contains(tt.r.messages(), tt.want)):
			t.Errorf("%s: success=%v %q, want an error containing %q", tt.name, tt.r.Success, tt.r.messages(), tt.want)
		case tt.want != "" && tt.r.status != 400:
			t.Errorf("%s: status %d, want 400", tt.name, tt.r.status)
		}
	}
}

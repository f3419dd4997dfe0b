package cfemu

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"
)

type reply struct {
	status  int
	Success bool            `json:"success"`
	Errors  []apiError      `json:"errors"`
	Result  json.RawMessage `json:"result"`
	Info    *resultInfo     `json:"result_info"`
	header  http.Header
}

func call(t *testing.T, s *Server, method, path string, body any) reply {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.URL()+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.Token())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var r reply
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil {
		t.Fatalf("%s %s: decoding: %v", method, path, err)
	}
	r.status, r.header = res.StatusCode, res.Header
	return r
}

func (r reply) code() int {
	if len(r.Errors) == 0 {
		return 0
	}
	return r.Errors[0].Code
}

func (r reply) messages() string {
	var s []string
	for _, e := range r.Errors {
		s = append(s, e.Message)
	}
	return strings.Join(s, "; ")
}

func (r reply) id(t *testing.T) string {
	var o struct{ ID string }
	if err := json.Unmarshal(r.Result, &o); err != nil || o.ID == "" {
		t.Fatalf("no id in %s (%s)", r.Result, r.messages())
	}
	return o.ID
}

func TestAuthAndEnvelope(t *testing.T) {
	s := New(t)
	s.AddZone("example.com", Pro)
	req, _ := http.NewRequest("GET", s.URL()+"/zones", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("without a token: %d", res.StatusCode)
	}
	r := call(t, s, "GET", "/zones?name=example.com", nil)
	if !r.Success || r.Info == nil || r.Info.TotalCount != 1 {
		t.Fatalf("zones = %+v", r)
	}
	var zs []struct {
		Name string
		Plan struct {
			LegacyID string `json:"legacy_id"`
		}
	}
	_ = json.Unmarshal(r.Result, &zs)
	if zs[0].Plan.LegacyID != "pro" {
		t.Errorf("plan = %+v", zs[0])
	}
	if got := s.Calls()["GET /client/v4/zones"]; got != 2 {
		t.Errorf("calls = %d, want 2 (unauthenticated ones count)", got)
	}
}

func TestDNSValidation(t *testing.T) {
	s := New(t)
	free := s.AddZone("free.example", Free)
	pro := s.AddZone("pro.example", Pro)
	rec := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "api", "type": "A", "content": "192.0.2.1", "proxied": true, "ttl": 1}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	r := call(t, s, "POST", "/zones/"+free+"/dns_records", rec(nil))
	if !r.Success {
		t.Fatalf("create: %s", r.messages())
	}
	if r := call(t, s, "POST", "/zones/"+free+"/dns_records", rec(map[string]any{"name": "cn", "type": "CNAME", "content": "api.free.example"})); !r.Success {
		t.Fatalf("create: %s", r.messages())
	}
	tests := []struct {
		name   string
		zone   string
		body   map[string]any
		status int
		code   int
	}{
		{"identical record", free, rec(nil), 400, 81058},
		{"cname over an A record", free, rec(map[string]any{"type": "CNAME", "content": "x.free.example"}), 400, 81053},
		{"A record over a cname", free, rec(map[string]any{"name": "cn", "type": "A"}), 400, 81054},
		{"bad address", pro, rec(map[string]any{"content": "not-an-ip"}), 400, 9005},
		{"comment too long on free", free, rec(map[string]any{"name": "b", "comment": strings.Repeat("x", 101)}), 400, 9102},
		{"comment fits on pro", pro, rec(map[string]any{"name": "b", "comment": strings.Repeat("x", 500)}), 200, 0},
		{"tags on free", free, rec(map[string]any{"name": "c", "tags": []string{"team:api"}}), 400, 9103},
		{"tags on pro", pro, rec(map[string]any{"name": "c", "tags": []string{"team:api"}}), 200, 0},
		{"ttl out of range", pro, rec(map[string]any{"name": "d", "ttl": 5}), 400, 9141},
		{"txt cannot be proxied", pro, rec(map[string]any{"name": "e", "type": "TXT", "content": "hello"}), 400, 9004},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, s, "POST", "/zones/"+tt.zone+"/dns_records", tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d/%d (%s), want %d/%d", r.status, r.code(), r.messages(), tt.status, tt.code)
			}
		})
	}
	cn := call(t, s, "POST", "/zones/"+pro+"/dns_records", rec(map[string]any{"name": "www", "type": "CNAME", "content": "api.pro.example"}))
	if !cn.Success {
		t.Fatal(cn.messages())
	}
	if r := call(t, s, "POST", "/zones/"+pro+"/dns_records", rec(map[string]any{"name": "www", "type": "CNAME", "content": "other.pro.example"})); r.code() != 81057 {
		t.Errorf("second CNAME: %d %s", r.code(), r.messages())
	}
	list := call(t, s, "GET", "/zones/"+pro+"/dns_records?comment.exact="+strings.Repeat("X", 500), nil)
	if list.Info.Count != 1 {
		t.Errorf("comment filter matched %d", list.Info.Count)
	}
	if r := call(t, s, "DELETE", "/zones/"+pro+"/dns_records/nope", nil); r.status != 404 || r.code() != 81044 {
		t.Errorf("delete missing: %d %d", r.status, r.code())
	}
}

func TestFreeRecordQuota(t *testing.T) {
	s := New(t)
	z := s.AddZone("free.example", Free)
	for i := range freeRecordQuota {
		if r := call(t, s, "POST", "/zones/"+z+"/dns_records", map[string]any{"name": "h" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "type": "TXT", "content": "x"}); !r.Success {
			t.Fatalf("record %d: %s", i, r.messages())
		}
	}
	if r := call(t, s, "POST", "/zones/"+z+"/dns_records", map[string]any{"name": "last", "type": "TXT", "content": "x"}); r.code() != 81045 {
		t.Errorf("record 201: %d %s", r.code(), r.messages())
	}
}

func TestSettings(t *testing.T) {
	s := New(t)
	z := s.AddZone("example.com", Pro)
	r := call(t, s, "GET", "/zones/"+z+"/settings/cache_level", nil)
	var st struct {
		Value    any
		Editable bool
	}
	_ = json.Unmarshal(r.Result, &st)
	if st.Value != "aggressive" || !st.Editable {
		t.Errorf("cache_level = %+v", st)
	}
	for _, tt := range []struct {
		setting string
		value   any
		code    int
	}{
		{"ssl_automatic_mode", "custom", 0},
		{"ssl", "strict", 0},
		{"ssl", "very-strict", 1007},
		{"cache_level", "standard", 1007}, // the dashboard's word is not an API value
		{"browser_cache_ttl", 14400, 0},
		{"browser_cache_ttl", 14401, 1007},
		{"min_tls_version", "1.2", 0},
		{"minify", map[string]any{"css": "on"}, 1011},
		{"no_such_setting", "on", 1003},
	} {
		if r := call(t, s, "PATCH", "/zones/"+z+"/settings/"+tt.setting, map[string]any{"value": tt.value}); r.code() != tt.code {
			t.Errorf("%s=%v: code %d (%s), want %d", tt.setting, tt.value, r.code(), r.messages(), tt.code)
		}
	}
	s.SetEditable("example.com", "early_hints", false)
	if r := call(t, s, "PATCH", "/zones/"+z+"/settings/early_hints", map[string]any{"value": "on"}); r.code() != 1005 {
		t.Errorf("not editable: %d", r.code())
	}
}

func rlRule(ref string, period, timeout int, chars ...string) map[string]any {
	if chars == nil {
		chars = []string{"cf.colo.id", "ip.src"}
	}
	return map[string]any{"ref": ref, "action": "block", "expression": `http.request.uri.path eq "/graphql"`,
		"ratelimit": map[string]any{"characteristics": chars, "period": period, "requests_per_period": 100, "mitigation_timeout": timeout}}
}

func TestRulesets(t *testing.T) {
	s := New(t)
	free := s.AddZone("free.example", Free)
	pro := s.AddZone("pro.example", Pro)
	base := func(z, phase string) string { return "/zones/" + z + "/rulesets/phases/" + phase + "/entrypoint" }
	if r := call(t, s, "GET", base(pro, "http_ratelimit"), nil); r.status != 404 {
		t.Errorf("absent entrypoint: %d", r.status)
	}
	put := func(z, phase string, rules ...map[string]any) reply {
		return call(t, s, "PUT", base(z, phase), map[string]any{"rules": rules})
	}
	tests := []struct {
		name  string
		r     reply
		want  string
		isErr bool
	}{
		{"pro 100/min for 10 min", put(pro, "http_ratelimit", rlRule("a", 60, 600)), "", false},
		{"free period", put(free, "http_ratelimit", rlRule("a", 60, 10)), "period 60 is not allowed on the free plan", true},
		{"free timeout", put(free, "http_ratelimit", rlRule("a", 10, 600)), "mitigation_timeout 600 is not allowed on the free plan", true},
		{"pro period", put(pro, "http_ratelimit", rlRule("a", 600, 600)), "period 600 is not allowed on the pro plan", true},
		{"colo required", put(pro, "http_ratelimit", rlRule("a", 60, 600, "ip.src")), "must include cf.colo.id", true},
		{"rule count", put(pro, "http_ratelimit", rlRule("a", 60, 600), rlRule("b", 60, 600), rlRule("c", 60, 600)), "the pro plan allows 2 rate limiting rules", true},
		{"refs unique", put(pro, "http_ratelimit", rlRule("a", 60, 600), rlRule("a", 60, 600)), `ref "a" is already used`, true},
		{"managed on free", put(free, "http_request_firewall_managed", map[string]any{"action": "execute", "expression": "true", "action_parameters": map[string]any{"id": ManagedOWASP}}), "requires a Pro plan", true},
		{"free managed on free", put(free, "http_request_firewall_managed", map[string]any{"action": "execute", "expression": "true", "action_parameters": map[string]any{"id": ManagedFree}}), "", false},
		{"unknown managed id", put(pro, "http_request_firewall_managed", map[string]any{"action": "execute", "expression": "true", "action_parameters": map[string]any{"id": "123"}}), "is not a managed ruleset", true},
		{"wrong action for phase", put(pro, "http_request_cache_settings", map[string]any{"action": "block", "expression": "true"}), "not allowed in phase", true},
	}
	for _, tt := range tests {
		if tt.isErr != !tt.r.Success || !strings.Contains(tt.r.messages(), tt.want) {
			t.Errorf("%s: success=%v %q, want error %v containing %q", tt.name, tt.r.Success, tt.r.messages(), tt.isErr, tt.want)
		}
	}
	var many []map[string]any
	for i := range 11 {
		many = append(many, map[string]any{"ref": string(rune('a' + i)), "action": "set_cache_settings", "expression": "true", "action_parameters": map[string]any{"cache": true}})
	}
	if r := put(free, "http_request_cache_settings", many...); !strings.Contains(r.messages(), "the free plan allows 10 cache rules") {
		t.Errorf("cache rule count: %s", r.messages())
	}
	// PUT replaces the whole phase; ids survive by ref.
	first := s.PhaseRules("pro.example", "http_ratelimit")[0]
	put(pro, "http_ratelimit", rlRule("a", 30, 600), rlRule("b", 60, 600))
	rules := s.PhaseRules("pro.example", "http_ratelimit")
	if len(rules) != 2 || rules[0].ID != first.ID || rules[0].Ratelimit.Period != 30 {
		t.Errorf("rules after PUT = %+v", rules)
	}
	if r := call(t, s, "POST", "/zones/"+pro+"/rate_limits", map[string]any{}); r.status != http.StatusGone {
		t.Errorf("legacy rate limits: %d", r.status)
	}
}

func TestLoadBalancing(t *testing.T) {
	s := New(t)
	z := s.AddZone("example.com", Pro)
	acct := "/accounts/" + DefaultAccount + "/load_balancers/"
	if r := call(t, s, "POST", acct+"monitors", map[string]any{"type": "https", "interval": 5, "timeout": 2, "expected_codes": "200"}); !strings.Contains(r.messages(), "below the 15 second minimum") {
		t.Errorf("monitor interval: %s", r.messages())
	}
	mon := call(t, s, "POST", acct+"monitors", map[string]any{"type": "https", "path": "/health", "interval": 60, "timeout": 5, "expected_codes": "200"}).id(t)
	if r := call(t, s, "POST", acct+"pools", map[string]any{"name": "us east", "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1"}}}); !strings.Contains(r.messages(), "may only contain letters, digits, - and _") {
		t.Errorf("pool name: %s", r.messages())
	}
	if r := call(t, s, "POST", acct+"pools", map[string]any{"name": "p", "monitor": "nope", "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1"}}}); !strings.Contains(r.messages(), "monitor nope does not exist") {
		t.Errorf("pool monitor: %s", r.messages())
	}
	pool := call(t, s, "POST", acct+"pools", map[string]any{"name": "us-east", "monitor": mon, "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1", "enabled": true}}}).id(t)
	lb := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "api", "fallback_pool": pool, "default_pools": []string{pool}, "steering_policy": "geo", "proxied": true,
			"region_pools": map[string]any{"WNAM": []string{pool}}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tt := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"bad region", lb(map[string]any{"region_pools": map[string]any{"MARS": []string{pool}}}), "MARS is not a region code"},
		{"missing pool", lb(map[string]any{"default_pools": []string{"gone"}}), "pool gone does not exist"},
		{"missing fallback", lb(map[string]any{"fallback_pool": ""}), "fallback_pool is required"},
		{"unknown fallback", lb(map[string]any{"fallback_pool": "gone"}), "fallback_pool gone does not exist"},
		{"pop pools below enterprise", lb(map[string]any{"pop_pools": map[string]any{"LAX": []string{pool}}}), "pop_pools require an Enterprise plan"},
	} {
		if r := call(t, s, "POST", "/zones/"+z+"/load_balancers", tt.body); !strings.Contains(r.messages(), tt.want) {
			t.Errorf("%s: %q", tt.name, r.messages())
		}
	}
	if r := call(t, s, "POST", "/zones/"+z+"/load_balancers", lb(nil)); !r.Success {
		t.Fatalf("lb: %s", r.messages())
	}
	if got := s.LoadBalancers("example.com")[0].Name; got != "api.example.com" {
		t.Errorf("lb name = %s", got)
	}
	if r := call(t, s, "DELETE", acct+"pools/"+pool, nil); !strings.Contains(r.messages(), "still referenced by load balancer") {
		t.Errorf("pool delete in use: %s", r.messages())
	}
	if r := call(t, s, "DELETE", acct+"monitors/"+mon, nil); !strings.Contains(r.messages(), "still referenced by pool") {
		t.Errorf("monitor delete in use: %s", r.messages())
	}
	s.SetPoolHealthy(pool, false)
	var h struct {
		PopHealth map[string]struct{ Healthy bool } `json:"pop_health"`
	}
	_ = json.Unmarshal(call(t, s, "GET", acct+"pools/"+pool+"/health", nil).Result, &h)
	for _, v := range h.PopHealth {
		if v.Healthy {
			t.Error("unhealthy pool reports healthy")
		}
	}
	for i := range lbLimit {
		_ = i
		call(t, s, "POST", acct+"pools", map[string]any{"name": "x", "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1"}}})
	}
	if n := len(s.Pools()); n != lbLimit {
		t.Errorf("pools = %d, want the limit %d", n, lbLimit)
	}
	// An Enterprise contract raises the limit.
	s.SetLoadBalancingLimit(DefaultAccount, lbLimit+1)
	call(t, s, "POST", acct+"pools", map[string]any{"name": "x", "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1"}}})
	call(t, s, "POST", acct+"pools", map[string]any{"name": "x", "origins": []any{map[string]any{"name": "a", "address": "192.0.2.1"}}})
	if n := len(s.Pools()); n != lbLimit+1 {
		t.Errorf("pools = %d, want the raised limit %d", n, lbLimit+1)
	}
}

func csr(t *testing.T, rsaKey bool, hosts ...string) string {
	t.Helper()
	var key any
	if rsaKey {
		key, _ = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func TestOriginCA(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := New(t, WithClock(func() time.Time { return now }))
	z := s.AddZone("example.com", Pro)
	hosts := []string{"api.example.com", "www.api.example.com"}
	for _, tt := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"foreign hostname", map[string]any{"csr": csr(t, false, "api.other.org"), "hostnames": []string{"api.other.org"}, "request_type": "origin-ecc"}, "is not in a zone"},
		{"validity", map[string]any{"csr": csr(t, false, hosts...), "hostnames": hosts, "request_type": "origin-ecc", "requested_validity": 100}, "requested_validity 100 is invalid"},
		{"garbage csr", map[string]any{"csr": "nope", "hostnames": hosts, "request_type": "origin-ecc"}, "csr is not a PEM"},
		{"key type", map[string]any{"csr": csr(t, true, hosts...), "hostnames": hosts, "request_type": "origin-ecc"}, "does not match request_type"},
	} {
		if r := call(t, s, "POST", "/certificates", tt.body); !strings.Contains(r.messages(), tt.want) {
			t.Errorf("%s: %q", tt.name, r.messages())
		}
	}
	r := call(t, s, "POST", "/certificates", map[string]any{"csr": csr(t, false, hosts...), "hostnames": hosts, "request_type": "origin-ecc", "requested_validity": 90})
	if !r.Success {
		t.Fatal(r.messages())
	}
	var c struct {
		ID          string
		Certificate string
		ExpiresOn   string `json:"expires_on"`
	}
	_ = json.Unmarshal(r.Result, &c)
	b, _ := pem.Decode([]byte(c.Certificate))
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(s.CACertPEM()))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "www.api.example.com", CurrentTime: now}); err != nil {
		t.Errorf("certificate does not verify against the emulator CA: %v", err)
	}
	if want := now.Add(90 * 24 * time.Hour); !cert.NotAfter.Equal(want) {
		t.Errorf("expiry %s, want %s", cert.NotAfter, want)
	}
	if list := call(t, s, "GET", "/certificates?zone_id="+z, nil); list.Info.Count != 1 {
		t.Errorf("list = %d", list.Info.Count)
	}
	call(t, s, "DELETE", "/certificates/"+c.ID, nil)
	if list := call(t, s, "GET", "/certificates?zone_id="+z, nil); list.Info.Count != 0 {
		t.Errorf("revoked certificate still listed")
	}
}

func TestFaults(t *testing.T) {
	s := New(t)
	z := s.AddZone("example.com", Pro)
	s.RateLimitNext(1)
	r := call(t, s, "GET", "/zones", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("429: %d %q", r.status, r.header.Get("Retry-After"))
	}
	s.FailNext(1)
	if r := call(t, s, "GET", "/zones", nil); r.status < 500 {
		t.Errorf("5xx: %d", r.status)
	}
	s.LoseResponses("POST", "/dns_records", 1)
	req, _ := http.NewRequest("POST", s.URL()+"/zones/"+z+"/dns_records", strings.NewReader(`{"name":"a","type":"A","content":"192.0.2.1"}`))
	req.Header.Set("Authorization", "Bearer "+s.Token())
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("lost response arrived: %d", res.StatusCode)
	}
	if n := len(s.Records("example.com")); n != 1 {
		t.Errorf("the lost create was not committed: %d records", n)
	}
	s.SetFaults(Faults{Latency: 20 * time.Millisecond})
	start := time.Now()
	call(t, s, "GET", "/zones", nil)
	if time.Since(start) < 20*time.Millisecond {
		t.Error("latency not injected")
	}
	if s.CallsMatching("GET", "/zones") != 3 {
		t.Errorf("GET /zones counted %d", s.CallsMatching("GET", "/zones"))
	}
}

func TestRequestBudget(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	s := New(t, WithBudget(3, time.Minute), WithClock(func() time.Time { return now }))
	s.AddZone("example.com", Pro)
	for i := range 3 {
		if r := call(t, s, "GET", "/zones", nil); !r.Success {
			t.Fatalf("call %d: %d", i, r.status)
		}
	}
	now = now.Add(20 * time.Second)
	r := call(t, s, "GET", "/zones", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "40" {
		t.Errorf("over budget: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	now = now.Add(40 * time.Second)
	if r := call(t, s, "GET", "/zones", nil); !r.Success {
		t.Errorf("new window: %d", r.status)
	}
	if s.BudgetRefusals() != 1 {
		t.Errorf("refusals = %d", s.BudgetRefusals())
	}
}

func TestSettingsCheckedAgainstEachOther(t *testing.T) {
	s := New(t)
	z := s.AddZone("aop.example", Pro)
	patch := func(id string, v any) int {
		return call(t, s, "PATCH", "/zones/"+z+"/settings/"+id, map[string]any{"value": v}).status
	}
	if st := patch("ssl", "strict"); st != 400 {
		t.Errorf("ssl in automatic mode: %d, want 400", st)
	}
	if st := patch("tls_client_auth", "on"); st != 400 {
		t.Errorf("tls_client_auth with ssl flexible: %d, want 400", st)
	}
	for _, step := range []struct{ id, v string }{{"ssl_automatic_mode", "custom"}, {"ssl", "strict"}, {"tls_client_auth", "on"}} {
		if st := patch(step.id, step.v); st != 200 {
			t.Errorf("%s=%s: %d", step.id, step.v, st)
		}
	}
}

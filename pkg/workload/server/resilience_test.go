package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

const statsQuery = `{honeypotStats{totalTriggers uniqueIPs perTrap{trapName count}}}`

func TestRateLimitSharedByTwoInstances(t *testing.T) {
	m, r := services(t, 10)
	// Both instances trust the loopback proxy, so the client is the
	// CF-Connecting-IP header, as behind Cloudflare.
	extra := map[string]string{"RATE_LIMIT_PER_MINUTE": "10", "TRUSTED_PROXY_CIDRS": "127.0.0.0/8"}
	a := startServer(t, m.URI, r.Addr, extra)
	b := startServer(t, m.URI, r.Addr, extra)

	ca, cb := newClient(t, a.URL), newClient(t, b.URL)
	ca.headers = map[string]string{"CF-Connecting-IP": "198.51.100.7"}
	cb.headers = ca.headers
	for i := 0; i < 10; i++ {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		got := c.do(`{__typename}`, nil)
		if got.Status != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, got.Status)
		}
		if rem := got.Header.Get("RateLimit-Remaining"); rem != strconv.Itoa(9-i) {
			t.Errorf("request %d: RateLimit-Remaining = %q, want %d", i+1, rem, 9-i)
		}
	}
	for _, c := range []*client{ca, cb} {
		got := c.do(`{__typename}`, nil)
		if got.Status != http.StatusTooManyRequests || got.code() != "RATE_LIMITED" {
			t.Fatalf("11th request: status %d code %q, want 429 RATE_LIMITED", got.Status, got.code())
		}
		if ra, err := strconv.Atoi(got.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After = %q, want 1..60", got.Header.Get("Retry-After"))
		}
		if got.Header.Get("RateLimit-Limit") != "10" || got.Header.Get("RateLimit-Remaining") != "0" {
			t.Errorf("RateLimit headers = %v", got.Header)
		}
	}
	// Another client address has its own budget.
	other := newClient(t, a.URL)
	other.headers = map[string]string{"CF-Connecting-IP": "198.51.100.8"}
	if got := other.do(`{__typename}`, nil); got.Status != http.StatusOK {
		t.Errorf("other client: status %d, want 200", got.Status)
	}

	t.Run("header ignored from untrusted peers", func(t *testing.T) {
		c := startServer(t, m.URI, r.Addr, map[string]string{"RATE_LIMIT_PER_MINUTE": "10"})
		spoof := newClient(t, c.URL)
		for i := 0; i < 11; i++ {
			// A new address each time would dodge the limit if the header were trusted.
			spoof.headers = map[string]string{"CF-Connecting-IP": "192.0.2." + strconv.Itoa(i+1)}
			got := spoof.do(`{__typename}`, nil)
			if i == 10 && got.Status != http.StatusTooManyRequests {
				t.Errorf("11th request from one peer: status %d, want 429", got.Status)
			}
		}
	})
}

func TestCacheAndInvalidation(t *testing.T) {
	m, r := services(t, 300)
	in := startServer(t, m.URI, r.Addr, nil)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	admin := login(t, in.URL, "admin", testenv.AdminPassword)

	cacheOf := func(g *gqlResponse) string {
		t.Helper()
		if len(g.Errors) > 0 {
			t.Fatalf("errors: %+v", g.Errors)
		}
		s, _ := g.Extensions["cache"].(string)
		return s
	}
	type stats struct{ HoneypotStats struct{ TotalTriggers int } }

	if got := cacheOf(viewer.do(statsQuery, nil)); got != "MISS" {
		t.Fatalf("first query: cache %q, want MISS", got)
	}
	// Whitespace and commas do not change the normalized query.
	hit := viewer.do("{ honeypotStats { totalTriggers,\n uniqueIPs perTrap { trapName count } } }", nil)
	if got := cacheOf(hit); got != "HIT" {
		t.Fatalf("same query reformatted: cache %q, want HIT", got)
	}
	if n := decode[stats](t, hit).HoneypotStats.TotalTriggers; n != 300 {
		t.Errorf("cached total = %d, want 300", n)
	}
	// The role is part of the key.
	if got := cacheOf(admin.do(statsQuery, nil)); got != "MISS" {
		t.Errorf("admin's first query: cache %q, want MISS", got)
	}
	// Variables are part of the key.
	q := `query($l:Int){honeypotTriggers(limit:$l){ip}}`
	cacheOf(viewer.do(q, map[string]any{"l": 1}))
	if got := cacheOf(viewer.do(q, map[string]any{"l": 2})); got != "MISS" {
		t.Errorf("other variables: cache %q, want MISS", got)
	}
	// `me` is never cached, mutations neither.
	viewer.do(`{me{username}}`, nil)
	if got := cacheOf(viewer.do(`{me{username}}`, nil)); got != "" {
		t.Errorf("me: cache %q, want none", got)
	}

	rec := admin.do(`mutation{recordHoneypotTrigger(input:{ip:"192.0.2.9",trapName:"env-file",path:"/.env",method:"GET",threatLevel:3}){id}}`, nil)
	if got := cacheOf(rec); got != "" {
		t.Errorf("mutation: cache %q, want none", got)
	}
	after := viewer.do(statsQuery, nil)
	if got := cacheOf(after); got != "MISS" {
		t.Errorf("after a write: cache %q, want MISS", got)
	}
	if n := decode[stats](t, after).HoneypotStats.TotalTriggers; n != 301 {
		t.Errorf("total after a write = %d, want 301", n)
	}
	// Writes to actors leave trigger answers cached.
	admin.do(`mutation{createThreatActor(input:{name:"Cache Lynx",category:OTHER,type:UNKNOWN,threatLevel:2}){id}}`, nil)
	if got := cacheOf(viewer.do(statsQuery, nil)); got != "HIT" {
		t.Errorf("after an unrelated write: cache %q, want HIT", got)
	}

	metrics := scrape(t, in.URL)
	for _, want := range []string{`neko_api_cache_lookups_total{result="hit"}`, `neko_api_cache_lookups_total{result="miss"}`} {
		if !containsLine(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRedisOutage(t *testing.T) {
	m, r := services(t, 50)
	in := startServer(t, m.URI, r.Addr, map[string]string{"RATE_LIMIT_PER_MINUTE": "1000"})
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	viewer.do(statsQuery, nil)

	r.Stop(t)
	start := time.Now()
	for i := 0; i < 20; i++ {
		got := viewer.do(statsQuery, nil)
		if got.Status != http.StatusOK || len(got.Errors) > 0 {
			t.Fatalf("with Redis down, request %d: status %d errors %+v", i, got.Status, got.Errors)
		}
		if c := got.Extensions["cache"]; c != nil {
			t.Errorf("with Redis down, cache = %v, want none", c)
		}
		if got.Header.Get("RateLimit-Limit") != "1000" {
			t.Errorf("with Redis down, no local rate limiting: headers %v", got.Header)
		}
	}
	t.Logf("20 requests with Redis down took %s", time.Since(start))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("20 requests with Redis down took %s", d)
	}
	if !containsLine(scrape(t, in.URL), `neko_api_circuit_breaker_state{name="redis"} 2`) {
		t.Errorf("redis breaker not open")
	}

	r.Start(t)
	waitFor(t, 10*time.Second, "Redis recovery", func() bool {
		got := viewer.do(statsQuery, nil)
		return got.Extensions["cache"] == "HIT" || got.Extensions["cache"] == "MISS"
	})
}

func TestMongoOutage(t *testing.T) {
	m, r := services(t, 50)
	in := startServer(t, m.URI, r.Addr, nil)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	if got := viewer.do(statsQuery, nil); len(got.Errors) > 0 {
		t.Fatal(got.Errors)
	}

	m.Stop(t)
	// Uncached queries fail with a clear error while the breaker counts
	// failures, and it opens after a few.
	waitFor(t, 15*time.Second, "MongoDB breaker to open", func() bool {
		if got := viewer.do(`{threatCountsByCategory{count}}`, nil); got.code() != "SERVICE_UNAVAILABLE" {
			t.Errorf("uncached query with MongoDB down: code %q errors %+v", got.code(), got.Errors)
		}
		return containsLine(scrape(t, in.URL), `neko_api_circuit_breaker_state{name="mongodb"} 2`)
	})
	// ...then fail fast.
	start := time.Now()
	got := viewer.do(`{threatCountsByCategory{count}}`, nil)
	if got.code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("uncached query with MongoDB down: code %q errors %+v, want SERVICE_UNAVAILABLE", got.code(), got.Errors)
	}
	// Far below MONGODB_TIMEOUT (1s): no wait on the database at all.
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("uncached query with the breaker open took %s, want fast failure", d)
	}
	// Cached answers are still served.
	if got := viewer.do(statsQuery, nil); len(got.Errors) > 0 || got.Extensions["cache"] != "HIT" {
		t.Errorf("cached query with MongoDB down: errors %+v cache %v", got.Errors, got.Extensions["cache"])
	}
	if resp, err := http.Get(in.URL + "/ready"); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("ready with MongoDB down: %v %v", resp.StatusCode, err)
	}

	m.Start(t)
	waitReady(t, in.URL) // readiness probes close the breaker again
	if got := viewer.do(`{threatCountsByCategory{count}}`, nil); len(got.Errors) > 0 {
		t.Errorf("after recovery: %+v", got.Errors)
	}
}

func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

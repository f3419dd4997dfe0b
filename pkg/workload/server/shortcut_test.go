package server_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// TestCacheHitShortcut: a hit answered without gqlgen (the request body is
// known) is byte for byte the hit gqlgen answers (the same query in a body
// seen for the first time), headers included.
func TestCacheHitShortcut(t *testing.T) {
	m, r := services(t, 20)
	in := startServer(t, m.URI, r.Addr, nil)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	post := func(body string) (http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, in.URL+"/graphql", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+viewer.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d, %v: %s", resp.StatusCode, err, b)
		}
		// Per-request values.
		for _, h := range []string{"Date", "Ratelimit-Remaining", "Ratelimit-Reset"} {
			resp.Header.Del(h)
		}
		return resp.Header, b
	}
	const q = `"query($l:Int){honeypotStats{totalTriggers mostActive(limit:$l){ip count}}}"`
	first := `{"query":` + q + `,"variables":{"l":2}}`
	if _, b := post(first); !bytes.Contains(b, []byte(`"cache":"MISS"`)) {
		t.Fatalf("first request: %s", b)
	}
	fastHeader, fast := post(first) // the body is known now
	slowHeader, slow := post(`{ "variables": {"l": 2}, "query": ` + q + ` }`)
	if !bytes.Contains(fast, []byte(`"cache":"HIT"`)) || !bytes.Equal(fast, slow) {
		t.Fatalf("hits differ:\nshortcut %s\ngqlgen   %s", fast, slow)
	}
	for k := range slowHeader {
		if fastHeader.Get(k) != slowHeader.Get(k) || len(fastHeader) != len(slowHeader) {
			t.Fatalf("headers differ:\nshortcut %v\ngqlgen   %v", fastHeader, slowHeader)
		}
	}
	// Different variables are a different entry.
	if _, b := post(`{"query":` + q + `,"variables":{"l":1}}`); !bytes.Contains(b, []byte(`"cache":"MISS"`)) {
		t.Fatalf("other variables: %s", b)
	}
}

// TestPrefetchedHitsAreRateLimited: hits read in the rate limiter's round
// trip are counted like every other request.
func TestPrefetchedHitsAreRateLimited(t *testing.T) {
	m, r := services(t, 5)
	in := startServer(t, m.URI, r.Addr, map[string]string{"RATE_LIMIT_PER_MINUTE": "5"})
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword) // request 1
	var caches []any
	for range 4 { // requests 2-5: a miss, then hits
		got := viewer.do(statsQuery, nil)
		if got.Status != http.StatusOK {
			t.Fatalf("status %d within the limit", got.Status)
		}
		caches = append(caches, got.Extensions["cache"])
	}
	if caches[0] != "MISS" || caches[3] != "HIT" {
		t.Fatalf("cache: %v", caches)
	}
	if got, err := viewer.try(statsQuery, nil); err != nil || got.Status != http.StatusTooManyRequests || got.Header.Get("Ratelimit-Remaining") != "0" {
		t.Fatalf("request 6: %+v %v", got, err)
	}
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/workload/loadgen"
	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// BenchmarkLoad measures the API under 50 concurrent connections, all on
// 127.0.0.1: a cached query, an uncached one (different variables on every
// request, so every request misses and runs the aggregation in the
// database), and requests rejected by the rate limiter; the uncached run
// goes last so that its load on the database does not colour the others. Each scenario is
// bounded to 5 seconds and 200,000 requests. Run it with
//
//	go test -run '^$' -bench Load -benchtime 1x ./pkg/workload/server/
func BenchmarkLoad(b *testing.B) {
	m, r := services(b, 5000)
	// A long TTL keeps the cached scenario's entry from expiring mid-run
	// (an expiry costs one database query, which is not what is measured).
	open := startServer(b, m.URI, r.Addr, map[string]string{"RATE_LIMIT_PER_MINUTE": "1000000000", "CACHE_TTLS": "honeypotStats=10m"})
	limited := startServer(b, m.URI, r.Addr, map[string]string{"RATE_LIMIT_PER_MINUTE": "1"})
	token := login(b, open.URL, "viewer", testenv.ViewerPassword).token

	body := func(query string, vars map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		return b
	}
	post := func(url string, payload []byte) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		return req
	}
	cached := body(statsQuery, nil)
	uncachedQuery := `query($since:Time){honeypotStats(since:$since){totalTriggers uniqueIPs perTrap{trapName count}}}`
	base := time.Now().Add(-40 * 24 * time.Hour)

	scenarios := []struct {
		name string
		opts loadgen.Options
	}{
		{"cached", loadgen.Options{Warmup: 1, Request: func(int) *http.Request { return post(open.URL, cached) }}},
		{"rate-limited", loadgen.Options{Warmup: 1, Request: func(int) *http.Request { return post(limited.URL, cached) },
			OK: func(s int) bool { return s == http.StatusTooManyRequests }}},
		{"uncached", loadgen.Options{Request: func(i int) *http.Request {
			// A distinct variable on every request: always a miss, and still a full scan.
			since := base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano)
			return post(open.URL, body(uncachedQuery, map[string]any{"since": since}))
		}}},
	}
	results := map[string]loadgen.Result{}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			o := sc.opts
			o.Connections, o.MaxRequests, o.Duration = 50, 200_000, 5*time.Second
			var res loadgen.Result
			for b.Loop() {
				res = loadgen.Run(context.Background(), o)
			}
			if res.Failures > 0 {
				b.Errorf("%d unexpected answers; first: %s", res.Failures, res.FirstFailure)
			}
			b.ReportMetric(res.RPS(), "req/s")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
			results[sc.name] = res
		})
	}
	fmt.Printf("load benchmark: 50 connections to 127.0.0.1, load generator in the same process\n")
	for _, sc := range scenarios {
		if _, ran := results[sc.name]; !ran {
			continue
		}
		fmt.Printf("  %-12s %s\n", sc.name, results[sc.name])
	}
	if c, u := results["cached"], results["uncached"]; c.Requests > 0 && u.Requests > 0 {
		fmt.Printf("  cached/uncached throughput: %.1fx\n", c.RPS()/u.RPS())
	}

	// The same load from wrk, a process of its own, when it is installed:
	// it takes less CPU than the Go generator, so it shows more of the server.
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Printf("wrk not installed (Debian package wrk): skipping the wrk figures\n")
		return
	}
	b.Run("wrk", func(b *testing.B) {
		var cachedLine, limitedLine string
		for b.Loop() {
			cachedLine = runWrk(b, open.URL, token, string(cached), 5*time.Second)
			limitedLine = runWrk(b, limited.URL, token, string(cached), 5*time.Second)
		}
		fmt.Printf("load benchmark with wrk: 50 connections, 2 threads, 5 s\n")
		fmt.Printf("  %-12s %s\n  %-12s %s\n", "cached", cachedLine, "rate-limited", limitedLine)
	})
}

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/neko-defense/nekoctl/pkg/providers/kubernetes"
	"github.com/neko-defense/nekoctl/pkg/workload/loadgen"
	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// BenchmarkLoad measures the API under 50 concurrent connections, all on
// 127.0.0.1: a cached query, requests rejected by the rate limiter, and an
// uncached query (a page of threat actors after a cursor that differs on
// every request, so every request misses and reads the database).
// Each scenario is bounded to 5 seconds and 200,000 requests. The uncached
// run goes last: the database keeps working for a while after it, which
// would colour anything measured next. Run it with
//
//	go test -run '^$' -bench Load -benchtime 1x ./pkg/workload/server/
func BenchmarkLoad(b *testing.B) {
	// The API runs with the garbage-collector target its Deployment sets.
	gogc, _ := strconv.Atoi(kubernetes.GOGC)
	defer debug.SetGCPercent(debug.SetGCPercent(gogc))
	m, r := services(b, 5000)
	// A long TTL keeps the cached entry from expiring mid-run, and a long
	// database timeout lets every uncached request finish however slow the
	// database gets: the figures are for answers, not fast failures.
	open := startServer(b, m.URI, r.Addr, map[string]string{
		"RATE_LIMIT_PER_MINUTE": "1000000000", "CACHE_TTLS": "honeypotStats=10m", "MONGODB_TIMEOUT": "60s",
	})
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
	answered := func(status int, body []byte) bool {
		return status == http.StatusOK && !bytes.Contains(body, []byte(`"errors"`))
	}
	cached := body(statsQuery, nil)
	uncachedQuery := `query($after:String){threatActors(first:10, after:$after){edges{node{name category threatLevel}} pageInfo{endCursor}}}`
	base := time.Now().Add(-400 * 24 * time.Hour) // before every actor: each page is full

	run := func(name string, o loadgen.Options) loadgen.Result {
		var res loadgen.Result
		b.Run(name, func(b *testing.B) {
			o.Connections, o.MaxRequests, o.Duration = 50, 200_000, 5*time.Second
			for b.Loop() {
				res = loadgen.Run(context.Background(), o)
			}
			if res.Failures > 0 {
				b.Errorf("%d unexpected answers; first: %s", res.Failures, res.FirstFailure)
			}
			b.ReportMetric(res.RPS(), "req/s")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
		})
		return res
	}
	cachedRes := run("cached", loadgen.Options{Warmup: 1, OK: answered,
		Request: func(int) *http.Request { return post(open.URL, cached) }})
	limitedRes := run("rate-limited", loadgen.Options{Warmup: 1,
		Request: func(int) *http.Request { return post(limited.URL, cached) },
		OK:      func(s int, _ []byte) bool { return s == http.StatusTooManyRequests }})
	var wrkCached, wrkLimited string
	if _, err := exec.LookPath("wrk"); err == nil {
		// The same load from wrk, a process of its own: it takes less CPU
		// than the Go generator, so it shows more of the server.
		b.Run("wrk", func(b *testing.B) {
			for b.Loop() {
				wrkCached = runWrk(b, open.URL, token, string(cached), 5*time.Second)
				wrkLimited = runWrk(b, limited.URL, token, string(cached), 5*time.Second)
			}
		})
	}
	uncachedRes := run("uncached", loadgen.Options{OK: answered, Request: func(i int) *http.Request {
		after := bson.NewObjectIDFromTimestamp(base.Add(time.Duration(i) * time.Second)).Hex()
		return post(open.URL, body(uncachedQuery, map[string]any{"after": after}))
	}})

	fmt.Printf("load benchmark: 50 connections to 127.0.0.1, Go load generator in the same process\n")
	fmt.Printf("  %-12s %s\n  %-12s %s\n  %-12s %s\n", "cached", cachedRes, "rate-limited", limitedRes, "uncached", uncachedRes)
	if cachedRes.Requests > 0 && uncachedRes.Requests > 0 {
		fmt.Printf("  cached/uncached throughput: %.1fx\n", cachedRes.RPS()/uncachedRes.RPS())
	}
	if wrkCached != "" {
		fmt.Printf("load benchmark with wrk: 50 connections, 2 threads, 5 s\n")
		fmt.Printf("  %-12s %s\n  %-12s %s\n", "cached", wrkCached, "rate-limited", wrkLimited)
	} else {
		fmt.Printf("wrk not installed (Debian package wrk): no wrk figures\n")
	}
	printCounters(b, open.URL)
}

// printCounters shows the cache lookups and breaker states: a cached run
// is only meaningful if its lookups were hits and the breakers stayed closed.
func printCounters(b *testing.B, url string) {
	for _, line := range strings.Split(scrape(b, url), "\n") {
		if strings.HasPrefix(line, "neko_api_cache_lookups_total") || strings.HasPrefix(line, "neko_api_circuit_breaker_state") {
			fmt.Printf("    %s\n", line)
		}
	}
}

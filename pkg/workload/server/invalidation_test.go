package server_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// TestWriteWhileRedisUnreachable: the network to Redis is cut while a
// write happens, and Redis keeps its data. The invalidation is remembered,
// so once Redis is reachable again the stale entry is never served.
func TestWriteWhileRedisUnreachable(t *testing.T) {
	m, r := services(t, 20)
	proxy := testenv.StartProxy(t, r.Addr)
	in := startServer(t, m.URI, proxy.Addr, nil)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	admin := login(t, in.URL, "admin", testenv.AdminPassword)
	type stats struct{ HoneypotStats struct{ TotalTriggers int } }

	viewer.do(statsQuery, nil)
	if got := viewer.do(statsQuery, nil); got.Extensions["cache"] != "HIT" {
		t.Fatalf("warm-up: cache %v", got.Extensions["cache"])
	}

	proxy.Partition()
	rec := admin.do(`mutation{recordHoneypotTrigger(input:{ip:"192.0.2.99",trapName:"env-file",path:"/.env",method:"GET",threatLevel:3}){id}}`, nil)
	if len(rec.Errors) > 0 {
		t.Fatalf("write with Redis paused: %+v", rec.Errors)
	}
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rdb.Close()
	if n, err := rdb.Keys(context.Background(), "*cache:q:*").Result(); err != nil || len(n) == 0 {
		t.Fatalf("the stale entry should still be in Redis: %v %v", n, err)
	}
	proxy.Heal()

	waitFor(t, 10*time.Second, "the cache to be used again", func() bool {
		got := viewer.do(statsQuery, nil)
		if n := decode[stats](t, got).HoneypotStats.TotalTriggers; n != 21 {
			t.Fatalf("stale answer after the write: %d triggers, want 21 (cache %v)", n, got.Extensions["cache"])
		}
		return got.Extensions["cache"] == "HIT"
	})
}

// TestConcurrentMissesShareOneAnswer: requests that miss the same entry at
// the same moment get the same answer.
func TestConcurrentMissesShareOneAnswer(t *testing.T) {
	m, r := services(t, 200)
	in := startServer(t, m.URI, r.Addr, nil)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)

	const n = 20
	var wg sync.WaitGroup
	answers := make([]json.RawMessage, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := viewer.try(statsQuery, nil)
			if err != nil || len(got.Errors) > 0 {
				t.Errorf("request %d: %v %+v", i, err, got)
				return
			}
			answers[i] = got.Data
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		if string(answers[i]) != string(answers[0]) {
			t.Errorf("answer %d differs: %s vs %s", i, answers[i], answers[0])
		}
	}
	if !containsLine(scrape(t, in.URL), `neko_api_cache_lookups_total{result="miss"}`) {
		t.Error("no miss counted")
	}
}

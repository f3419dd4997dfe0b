package server_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// TestGracefulShutdownUnderLoad is a rolling restart in miniature: clients
// send requests through a balancer that, like a Kubernetes Service, only
// routes to replicas whose /ready answers 200. One replica is shut down
// under load; not a single request may fail.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	m, r := services(t, 300)
	extra := map[string]string{"SHUTDOWN_DRAIN_DELAY": "400ms", "RATE_LIMIT_PER_MINUTE": "1000000"}
	a := startServer(t, m.URI, r.Addr, extra)
	b := startServer(t, m.URI, r.Addr, extra)
	token := login(t, a.URL, "viewer", testenv.ViewerPassword).token

	backends := []*instance{a, b}
	var ready [2]atomic.Bool
	ready[0].Store(true)
	ready[1].Store(true)
	stopPolling := make(chan struct{})
	var pollers sync.WaitGroup
	for i, in := range backends {
		pollers.Add(1)
		go func() { // the endpoints controller
			defer pollers.Done()
			probe := &http.Client{Timeout: time.Second}
			for {
				select {
				case <-stopPolling:
					return
				case <-time.After(20 * time.Millisecond):
				}
				resp, err := probe.Get(in.URL + "/ready")
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					resp.Body.Close()
				}
				ready[i].Store(ok)
			}
		}()
	}

	const (
		workers     = 16
		maxRequests = 20000
		maxDuration = 3 * time.Second
	)
	var sent, failed, servedByA atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(maxDuration)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(t, "")
			c.token = token
			for i := w; time.Now().Before(deadline) && sent.Add(1) <= maxRequests; i++ {
				target := i % 2
				if !ready[target].Load() {
					target = 1 - target
				}
				c.url = backends[target].URL
				query := statsQuery // cached after the first request
				if i%4 == 0 {
					query = `{threatCountsByCategory{category count}}`
				}
				got, err := c.try(query, nil)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				case got.Status != http.StatusOK || len(got.Errors) > 0:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, http.StatusText(got.Status))
				case target == 0:
					servedByA.Add(1)
				}
			}
		}()
	}

	time.Sleep(700 * time.Millisecond)
	beforeShutdown := servedByA.Load()
	shutdownStart := time.Now()
	a.shutdown(t)
	took := time.Since(shutdownStart)
	wg.Wait()
	close(stopPolling)
	pollers.Wait()

	t.Logf("%d requests, %d failed, %d served by the replica shut down (%d before shutdown began); shutdown took %s",
		min(sent.Load(), maxRequests), failed.Load(), servedByA.Load(), beforeShutdown, took)
	if failed.Load() > 0 {
		t.Errorf("%d requests failed during the rolling restart; first: %v", failed.Load(), firstErr.Load())
	}
	if beforeShutdown == 0 {
		t.Errorf("the replica shut down served no requests before shutdown; the test proved nothing")
	}
	if took < 400*time.Millisecond {
		t.Errorf("shutdown took %s, less than the drain delay", took)
	}
}

// TestReadinessFailsFirst: once shutdown begins, /ready fails at once while
// the server still answers for the drain delay, asking clients to close.
func TestReadinessFailsFirst(t *testing.T) {
	m, r := services(t, 10)
	in := startServer(t, m.URI, r.Addr, map[string]string{"SHUTDOWN_DRAIN_DELAY": "1s"})
	in.stop()
	deadline := time.Now().Add(900 * time.Millisecond)
	sawUnready := false
	for time.Now().Before(deadline) && !sawUnready {
		resp, err := http.Get(in.URL + "/ready")
		if err != nil {
			t.Fatalf("the server stopped answering during the drain delay: %v", err)
		}
		resp.Body.Close()
		sawUnready = resp.StatusCode == http.StatusServiceUnavailable
		if sawUnready && !resp.Close { // the client turns "Connection: close" into Close
			t.Errorf("draining response without Connection: close: %v", resp.Header)
		}
	}
	if !sawUnready {
		t.Fatal("/ready did not fail after shutdown began")
	}
	resp, err := http.Get(in.URL + "/health")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/health during the drain delay: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := <-in.done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	in.done <- nil
	if _, err := http.Get(in.URL + "/health"); err == nil {
		t.Error("still serving after shutdown")
	}
}

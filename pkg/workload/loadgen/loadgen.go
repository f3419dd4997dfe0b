// Package loadgen is a small closed-loop HTTP load generator for the API
// benchmark: a fixed number of connections, each sending its next request
// when the previous answer arrives, bounded in both count and time.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Options describe one run.
type Options struct {
	// Connections is the number of concurrent clients (and TCP connections).
	Connections int
	// MaxRequests and Duration bound the run; it ends at whichever comes first.
	MaxRequests int
	Duration    time.Duration
	// Warmup requests are sent first and not measured.
	Warmup int
	// Request builds the i-th request.
	Request func(i int) *http.Request
	// OK tells an expected answer from a failure by its status and body
	// (by default: status 200).
	OK func(status int, body []byte) bool
}

// Result are a run's figures.
type Result struct {
	Requests, Failures int
	Elapsed            time.Duration
	P50, P99, Max      time.Duration
	FirstFailure       string
}

// RPS is the throughput in requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  max %7.3f ms  (%d requests, %d failed)",
		r.RPS(), ms(r.P50), ms(r.P99), ms(r.Max), r.Requests, r.Failures)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Run sends the load and measures each request's latency.
func Run(ctx context.Context, o Options) Result {
	if o.OK == nil {
		o.OK = func(s int, _ []byte) bool { return s == http.StatusOK }
	}
	tr := &http.Transport{
		MaxIdleConnsPerHost: o.Connections, MaxConnsPerHost: o.Connections,
		DisableCompression: true, IdleConnTimeout: time.Minute,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	send := func(i int) (time.Duration, string) {
		req := o.Request(i).WithContext(ctx)
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return time.Since(start), err.Error()
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if err != nil {
			return d, err.Error()
		}
		if !o.OK(resp.StatusCode, body) {
			return d, "status " + resp.Status + ": " + string(body[:min(len(body), 200)])
		}
		return d, ""
	}
	for i := 0; i < o.Warmup; i++ {
		send(i)
	}

	var next atomic.Int64
	var failures atomic.Int64
	var firstFailure atomic.Value
	lat := make([][]time.Duration, o.Connections)
	deadline := time.Now().Add(o.Duration)
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < o.Connections; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1))
				if i > o.MaxRequests {
					return
				}
				d, fail := send(o.Warmup + i)
				lat[c] = append(lat[c], d)
				if fail != "" {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fail)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	all := slices.Concat(lat...)
	slices.Sort(all)
	r := Result{Requests: len(all), Failures: int(failures.Load()), Elapsed: elapsed}
	if f, ok := firstFailure.Load().(string); ok {
		r.FirstFailure = f
	}
	if len(all) > 0 {
		r.P50 = all[len(all)*50/100]
		r.P99 = all[min(len(all)-1, len(all)*99/100)]
		r.Max = all[len(all)-1]
	}
	return r
}

// Package metrics defines the API server's Prometheus metrics on a registry
// of its own, so that tests can run several servers in one process.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every metric; dashboards and alerts use these names.
const Namespace = "neko_api"

// Metrics are the server's instruments.
type Metrics struct {
	Registry *prometheus.Registry

	// Requests counts HTTP requests by route, method and status code.
	Requests *prometheus.CounterVec
	// Duration is the HTTP latency by route.
	Duration *prometheus.HistogramVec
	// InFlight is the number of requests being served.
	InFlight prometheus.Gauge
	// Cache counts response-cache lookups by result: hit, miss or bypass
	// (Redis unavailable). Hit ratio: hit / (hit + miss).
	Cache *prometheus.CounterVec
	// Breaker is each circuit breaker's state: 0 closed, 1 half-open, 2 open.
	Breaker *prometheus.GaugeVec
	// RateLimited counts requests rejected with 429, by limiter backend
	// (redis or local).
	RateLimited *prometheus.CounterVec
	// GraphQLErrors counts GraphQL responses with errors, by code.
	GraphQLErrors *prometheus.CounterVec
}

// New returns the metrics registered on a new registry, with the Go and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		Cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "cache_lookups_total",
			Help: "Response cache lookups by result (hit, miss, bypass).",
		}, []string{"result"}),
		Breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "circuit_breaker_state",
			Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
		}, []string{"name"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "rate_limit_rejections_total",
			Help: "Requests rejected by the rate limiter, by backend (redis, local).",
		}, []string{"backend"}),
		GraphQLErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "graphql_errors_total",
			Help: "GraphQL responses with errors, by error code.",
		}, []string{"code"}),
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Requests, m.Duration, m.InFlight, m.Cache, m.Breaker, m.RateLimited, m.GraphQLErrors,
	)
	return m
}

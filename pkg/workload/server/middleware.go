package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/neko-defense/nekoctl/pkg/workload/metrics"
)

// instrument counts and times requests to one route. The duration's only
// label is the route, so its histogram is looked up once here rather than
// per request (as promhttp.InstrumentHandlerDuration does, building a label
// map and hashing it every time).
func instrument(m *metrics.Metrics, route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	h = promhttp.InstrumentHandlerCounter(m.Requests.MustCurryWith(labels), h)
	duration := m.Duration.WithLabelValues(route)
	timed := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		timed.ServeHTTP(w, r)
		duration.Observe(time.Since(start).Seconds())
	})
	return promhttp.InstrumentHandlerInFlight(m.InFlight, h)
}

// fixedHeaders sets constant headers. Their keys are canonical already and
// their values share one allocation, instead of the slice and the key check
// per header that Header.Set costs.
type fixedHeaders struct {
	keys, values []string
}

func newFixedHeaders(kv ...string) fixedHeaders {
	var f fixedHeaders
	for i := 0; i < len(kv); i += 2 {
		f.keys = append(f.keys, http.CanonicalHeaderKey(kv[i]))
		f.values = append(f.values, kv[i+1])
	}
	return f
}

func (f fixedHeaders) set(h http.Header) {
	values := slices.Clone(f.values)
	for i, k := range f.keys {
		// Capacity 1: an Add to one of them reallocates, never
		// overwriting its neighbour.
		h[k] = values[i : i+1 : i+1]
	}
}

var security = newFixedHeaders(
	"X-Content-Type-Options", "nosniff",
	"X-Frame-Options", "DENY",
	"Referrer-Policy", "no-referrer",
	"Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	"Strict-Transport-Security", "max-age=63072000; includeSubDomains",
	"Cross-Origin-Opener-Policy", "same-origin",
	"Cross-Origin-Resource-Policy", "same-site",
	"Permissions-Policy", "camera=(), microphone=(), geolocation=()",
)

// securityHeaders sets the headers every response carries. The API serves
// no active content, so the content security policy allows nothing but the
// embedded stylesheet and images.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		security.set(w.Header())
		next.ServeHTTP(w, r)
	})
}

// noStore keeps dynamic answers out of browser and edge caches.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// cors allows the configured browser origins ("*" allows any). Tokens
// travel in the Authorization header, never in cookies, so credentials are
// not allowed.
func cors(origins []string, next http.Handler) http.Handler {
	any := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		allowed := origin != "" && (any || slices.Contains(origins, origin))
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, RateLimit-Policy, Retry-After")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			if allowed {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody refuses bodies over max bytes: early by Content-Length, and by
// cutting off longer chunked bodies while they are read.
func limitBody(max int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > max {
			writeJSONError(w, http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the work of a request: resolvers, database calls and
// the query cost check all stop when its context ends.
func withTimeout(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverPanics turns a panic into a 500 and a log line instead of a dropped connection.
func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				log.Error("panic serving request", "path", r.URL.Path, "panic", v)
				writeJSONError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"errors":[{"message":"` + strings.ReplaceAll(msg, `"`, `'`) + `","extensions":{"code":"` + code + `"}}]}`))
}

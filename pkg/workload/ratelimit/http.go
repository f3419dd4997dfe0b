package ratelimit

import (
	"context"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// ClientIP returns the address the limit applies to: the CF-Connecting-IP
// header when the connection comes from a trusted proxy (Cloudflare, the
// ingress), else the connection's own address. An untrusted peer cannot
// pick its identity by sending the header.
func ClientIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if h := strings.TrimSpace(r.Header.Get("CF-Connecting-IP")); h != "" {
		for _, p := range trusted {
			if p.Contains(peer) {
				if a, err := netip.ParseAddr(h); err == nil {
					return a.Unmap().String()
				}
				break
			}
		}
	}
	return peer.String()
}

// Middleware applies the limit to every request, setting the RateLimit-*
// headers and answering 429 with Retry-After once the limit is reached.
// onReject is told the backend that decided.
func Middleware(l *Limiter, trusted []netip.Prefix, onReject func(backend string), next http.Handler) http.Handler {
	return MiddlewarePrefetching(l, trusted, onReject, nil, next)
}

// Prefetch names the Redis key a request is going to read, if it knows
// one; it may return the request changed (a body it read, replayable).
type Prefetch func(r *http.Request) (*http.Request, string)

// Canonical header keys (RateLimit-Limit goes out as Ratelimit-Limit).
var (
	hdrLimit       = http.CanonicalHeaderKey("RateLimit-Limit")
	hdrRemaining   = http.CanonicalHeaderKey("RateLimit-Remaining")
	hdrReset       = http.CanonicalHeaderKey("RateLimit-Reset")
	hdrPolicy      = http.CanonicalHeaderKey("RateLimit-Policy")
	hdrRetryAfter  = http.CanonicalHeaderKey("Retry-After")
	hdrContentType = http.CanonicalHeaderKey("Content-Type")
)

type prefetchedKey struct{}

type prefetched struct {
	key   string
	val   []byte
	found bool
}

// Prefetched returns the value of key when the rate limiter read it along
// with the request's count: ok is false when it did not.
func Prefetched(ctx context.Context, key string) (val []byte, found, ok bool) {
	p, ok := ctx.Value(prefetchedKey{}).(*prefetched)
	if !ok || p.key != key {
		return nil, false, false
	}
	return p.val, p.found, true
}

// MiddlewarePrefetching is Middleware that reads the key prefetch names in
// the same Redis round trip as the count, for the handlers after it
// (Prefetched). A cache lookup after the limit costs no round trip then.
func MiddlewarePrefetching(l *Limiter, trusted []netip.Prefix, onReject func(backend string), prefetch Prefetch, next http.Handler) http.Handler {
	limit := strconv.Itoa(l.Limit())
	policy := limit + ";w=" + strconv.Itoa(int(Window.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var key string
		if prefetch != nil {
			r, key = prefetch(r)
		}
		var d Decision
		if key == "" {
			d = l.Allow(r.Context(), ClientIP(r, trusted))
		} else {
			var p prefetched
			var read bool
			d, p.val, p.found, read = l.AllowAndGet(r.Context(), ClientIP(r, trusted), key)
			if read && d.Allowed {
				p.key = key
				r = r.WithContext(context.WithValue(r.Context(), prefetchedKey{}, &p))
			}
		}
		reset := strconv.Itoa(int(math.Ceil(d.Reset.Seconds())))
		// What Header.Set does, with one allocation for the values instead
		// of one per header (capacity 1 each: an Add reallocates).
		h := w.Header()
		v := []string{limit, strconv.Itoa(d.Remaining), reset, policy, reset, "application/json"}
		h[hdrLimit], h[hdrRemaining], h[hdrReset], h[hdrPolicy] = v[0:1:1], v[1:2:2], v[2:3:3], v[3:4:4]
		if !d.Allowed {
			onReject(d.Backend)
			h[hdrRetryAfter], h[hdrContentType] = v[4:5:5], v[5:6:6]
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"errors":[{"message":"rate limit exceeded, retry after ` + reset + ` seconds","extensions":{"code":"RATE_LIMITED"}}]}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

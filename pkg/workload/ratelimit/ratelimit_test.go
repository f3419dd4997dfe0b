package ratelimit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestClientIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2400:cb00::/32")}
	tests := []struct {
		name, remote, header, want string
	}{
		{"direct", "192.0.2.1:5000", "", "192.0.2.1"},
		{"untrusted peer sends the header", "192.0.2.1:5000", "198.51.100.9", "192.0.2.1"},
		{"trusted proxy", "10.1.2.3:5000", "198.51.100.9", "198.51.100.9"},
		{"trusted IPv6 proxy", "[2400:cb00::1]:443", "2001:db8::7", "2001:db8::7"},
		{"trusted proxy, bad header", "10.1.2.3:5000", "not-an-ip", "10.1.2.3"},
		{"IPv4-mapped peer", "[::ffff:192.0.2.1]:5000", "", "192.0.2.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set("CF-Connecting-IP", tt.header)
			}
			if got := ClientIP(r, trusted); got != tt.want {
				t.Errorf("ClientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLocalLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(3, nil, nil, "", func() time.Time { return now })
	for i := 1; i <= 4; i++ {
		d := l.Allow(context.Background(), "a")
		if d.Allowed != (i <= 3) || d.Remaining != max(0, 3-i) || d.Backend != "local" {
			t.Errorf("request %d: %+v", i, d)
		}
	}
	if d := l.Allow(context.Background(), "b"); !d.Allowed {
		t.Errorf("another client was limited: %+v", d)
	}
	now = now.Add(Window)
	if d := l.Allow(context.Background(), "a"); !d.Allowed || d.Reset != Window {
		t.Errorf("after the window: %+v", d)
	}
}

func TestMiddlewareHeaders(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(1, nil, nil, "", func() time.Time { return now })
	rejected := ""
	h := Middleware(l, nil, func(b string) { rejected = b }, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for i, want := range []int{200, 429} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/graphql", nil))
		if w.Code != want {
			t.Fatalf("request %d: status %d, want %d", i+1, w.Code, want)
		}
		if w.Header().Get("RateLimit-Limit") != "1" || w.Header().Get("RateLimit-Reset") != "60" {
			t.Errorf("request %d headers: %v", i+1, w.Header())
		}
		if want == 429 && (w.Header().Get("Retry-After") != "60" || rejected != "local") {
			t.Errorf("429 without Retry-After or rejection count: %v %q", w.Header(), rejected)
		}
	}
}

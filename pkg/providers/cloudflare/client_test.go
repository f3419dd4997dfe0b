package cloudflare

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/time/rate"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// headerRecorder keeps the headers of every request that reaches the
// network.
type headerRecorder struct {
	mu   sync.Mutex
	seen []http.Header
}

func (h *headerRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.seen = append(h.seen, r.Header.Clone())
	h.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func emuClient(t *testing.T, emu *cfemu.Server, base, token string, rt http.RoundTripper) *Client {
	t.Helper()
	c, err := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: token, EnvBaseURL: base}[k]
	}, &http.Client{Transport: rt}, rate.NewLimiter(rate.Inf, 1))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestClientJoinsPathsBelowTheBaseURL: with or without a trailing slash on
// the base and a leading slash on the path, a request lands below the
// base's path with its query intact, as the Cloudflare SDK joins them.
func TestClientJoinsPathsBelowTheBaseURL(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	emu.AddZone("other.example", cfemu.Pro)
	for _, base := range []string{emu.URL(), emu.URL() + "/"} {
		for _, path := range []string{"zones?name=" + testZone, "/zones?name=" + testZone, "//zones?name=" + testZone} {
			t.Run(base+" "+path, func(t *testing.T) {
				emu.ResetCalls()
				env, err := emuClient(t, emu, base, emu.Token(), nil).do(context.Background(), http.MethodGet, path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(map[string]int{"GET /client/v4/zones": 1}, emu.Calls()); diff != "" {
					t.Errorf("calls (-want +got):\n%s", diff)
				}
				if got := string(env.Result); !strings.Contains(got, `"name":"`+testZone+`"`) || strings.Contains(got, "other.example") {
					t.Errorf("the name query did not reach the service: %s", got)
				}
			})
		}
	}
	// A base without a path puts the request's path at the root.
	root := strings.TrimSuffix(emu.URL(), "/client/v4")
	if _, err := emuClient(t, emu, root, emu.Token(), nil).do(context.Background(), http.MethodGet, "client/v4/zones", nil); err != nil {
		t.Errorf("base %s + client/v4/zones: %v", root, err)
	}
}

func TestParseBaseURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://api.cloudflare.com/client/v4/": "https://api.cloudflare.com/client/v4/",
		"https://api.cloudflare.com/client/v4":  "https://api.cloudflare.com/client/v4/",
		"http://127.0.0.1:8080":                 "http://127.0.0.1:8080",
		"localhost:8080":                        "",
		"/client/v4":                            "",
		"http://":                               "",
		"http://[::1":                           "",
	} {
		u, err := parseBaseURL(raw)
		switch {
		case want == "" && err == nil:
			t.Errorf("%q accepted as %s", raw, u)
		case want == "" && !strings.Contains(err.Error(), EnvBaseURL):
			t.Errorf("%q: error does not name %s: %v", raw, EnvBaseURL, err)
		case want != "" && (err != nil || u.String() != want):
			t.Errorf("%q = %v, %v; want %s", raw, u, err, want)
		}
	}
	if _, err := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: "t", EnvBaseURL: "api.cloudflare.com/client/v4"}[k]
	}, nil, nil); err == nil {
		t.Error("NewClient accepted a base URL without a scheme")
	}
}

// TestClientSendsTheTokenAndNamesItself: every request carries the bearer
// token, asks for JSON and names nekoctl and its version; a body is sent
// as JSON, and no credential header other than the token is sent.
func TestClientSendsTheTokenAndNamesItself(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	rec := &headerRecorder{}
	c := emuClient(t, emu, emu.URL(), emu.Token(), rec)
	ctx := context.Background()
	zid := emu.ZoneID(testZone)
	if _, err := c.do(ctx, http.MethodPost, "zones/"+zid+"/dns_records", obj{"name": "a." + testZone, "type": "A", "content": "192.0.2.1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.do(ctx, http.MethodGet, "zones/"+zid+"/dns_records", nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.seen) != 2 {
		t.Fatalf("%d requests, want 2", len(rec.seen))
	}
	for i, h := range rec.seen {
		want := map[string]string{"Authorization": "Bearer " + emu.Token(), "Accept": "application/json",
			"User-Agent": "nekoctl/" + version.Version, "Content-Type": ""}
		if i == 0 {
			want["Content-Type"] = "application/json"
		}
		got := map[string]string{}
		for k := range want {
			got[k] = h.Get(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request %d headers (-want +got):\n%s", i, diff)
		}
		for _, k := range []string{"X-Auth-Key", "X-Auth-Email", "X-Auth-User-Service-Key"} {
			if h.Get(k) != "" {
				t.Errorf("request %d sends %s", i, k)
			}
		}
	}
}

// TestClientDecodesTheServiceErrors: a refused request is an *APIError with
// the HTTP status and every code and message of errors[]; status and
// hasCode read it, and no message carries the token.
func TestClientDecodesTheServiceErrors(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	zid := emu.ZoneID(testZone)
	ctx := context.Background()
	good := emuClient(t, emu, emu.URL(), emu.Token(), nil)
	cases := []struct {
		name         string
		c            *Client
		method, path string
		body         any
		want         APIError
	}{
		{"wrong token", emuClient(t, emu, emu.URL(), "not-the-token", nil), http.MethodGet, "zones", nil,
			APIError{StatusCode: 403, Errors: []ErrorDetail{{10000, "Authentication error"}}}},
		{"no such record", good, http.MethodGet, "zones/" + zid + "/dns_records/0123", nil,
			APIError{StatusCode: 404, Errors: []ErrorDetail{{81044, "Record does not exist."}}}},
		{"no route", good, http.MethodGet, "zonez", nil,
			APIError{StatusCode: 404, Errors: []ErrorDetail{{7003, "Could not route to /client/v4/zonez, perhaps your object identifier is invalid?"}}}},
		{"invalid record", good, http.MethodPost, "zones/" + zid + "/dns_records", obj{"name": "a", "type": "A"},
			APIError{StatusCode: 400, Errors: []ErrorDetail{{9000, "DNS record requires name, type and content"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.c.do(ctx, tc.method, tc.path, tc.body)
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if diff := cmp.Diff(tc.want, *got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if status(err) != tc.want.StatusCode || !hasCode(err, tc.want.Errors[0].Code) || hasCode(err, 1) {
				t.Errorf("status/hasCode do not read %v", err)
			}
			msg := err.Error()
			if want := tc.want.Errors[0].Message; !strings.HasPrefix(msg, "HTTP ") || !strings.Contains(msg, want) {
				t.Errorf("message %q lacks the status or %q", msg, want)
			}
			if strings.Contains(msg, emu.Token()) || strings.Contains(msg, "not-the-token") {
				t.Errorf("message shows the token: %s", msg)
			}
			if status(apiErr(err)) != 0 || apiErr(err).Error() != msg {
				t.Errorf("apiErr(%v) = %v", err, apiErr(err))
			}
		})
	}
}

// TestClientReportsAnswersThatAreNotTheAPIs: a proxy's page in front of the
// API keeps its HTTP status (a 502 counts as a server error) and a success
// that is not JSON is an error, not an empty result.
func TestClientReportsAnswersThatAreNotTheAPIs(t *testing.T) {
	var healthy atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	}))
	defer proxy.Close()
	c, err := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: "secret-token", EnvBaseURL: proxy.URL + "/client/v4"}[k]
	}, nil, rate.NewLimiter(rate.Inf, 1), WithRetryPolicy(RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.do(context.Background(), http.MethodPost, "certificates", obj{})
	if status(err) != http.StatusBadGateway || !outcomeUnknown(err) || err.Error() != "HTTP 502" {
		t.Errorf("502 page: %v", err)
	}
	healthy.Store(true)
	_, err = c.do(context.Background(), http.MethodGet, "zones", nil)
	if err == nil || !strings.Contains(err.Error(), "not the API's JSON") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("200 page: %v", err)
	}
}

// TestClientReturnsCancellationAsItself: a cancelled run sees
// context.Canceled, which the engine reports as interrupted.
func TestClientReturnsCancellationAsItself(t *testing.T) {
	emu := cfemu.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := emuClient(t, emu, emu.URL(), emu.Token(), nil).do(ctx, http.MethodGet, "zones", nil)
	if err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

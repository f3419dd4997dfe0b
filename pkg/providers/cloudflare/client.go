package cloudflare

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/internal/httpretry"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// Environment variables read by NewClient. They are the names the Cloudflare
// SDK, Terraform provider and wrangler already use.
const (
	EnvAPIToken = "CLOUDFLARE_API_TOKEN"
	EnvBaseURL  = "CLOUDFLARE_BASE_URL"
	// DefaultBaseURL is used when CLOUDFLARE_BASE_URL is unset.
	DefaultBaseURL = "https://api.cloudflare.com/client/v4/"
)

// Request budget: Cloudflare allows 1200 requests per 5 minutes per token.
// The bucket refills at (1200-burst)/300 per second so that even a full burst
// followed by steady use stays inside any 5-minute window.
const (
	BudgetRequests = 1200
	BudgetWindow   = 5 * time.Minute
	BudgetBurst    = 60
)

// NewLimiter returns the token bucket that every Cloudflare call of one run
// shares.
func NewLimiter() *rate.Limiter {
	return NewBudgetLimiter(BudgetRequests, BudgetWindow, BudgetBurst)
}

// NewBudgetLimiter is a token bucket that never lets more than requests
// through in any window: burst at once, refilled at (requests-burst)/window.
func NewBudgetLimiter(requests int, window time.Duration, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(float64(requests-burst)/window.Seconds()), burst)
}

// RetryPolicy is how failed calls are retried: at most MaxAttempts tries
// (default 8), from BaseDelay (500ms) doubling up to MaxDelay (30s) with
// jitter; Retry-After, when longer, wins. The transport applies it, so that
// the shared token bucket sees every attempt.
type RetryPolicy = httpretry.Policy

func withDefaults(p RetryPolicy) RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 500 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.Sleep == nil {
		p.Sleep = ctxtime.Sleep
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	return p
}

// ClientOption tunes NewClient.
type ClientOption func(*clientConfig)

type clientConfig struct {
	retry RetryPolicy
}

// WithRetryPolicy replaces the default retry policy.
func WithRetryPolicy(p RetryPolicy) ClientOption {
	return func(c *clientConfig) { c.retry = p }
}

// Client speaks Cloudflare's v4 API: JSON bodies, the bearer token, the
// response envelope and its errors. It is nekoctl's own rather than the
// cloudflare-go SDK's: the provider sends the service's JSON as maps and
// needed only the SDK's Execute, but importing the SDK linked every one of
// its service packages (14 MB of the binary), paged in at every start-up.
type Client struct {
	// base ends in "/" when it has a path, so that a request's path is
	// resolved below it.
	base      *url.URL
	token     string
	hc        *http.Client
	userAgent string
}

// NewClient builds the Cloudflare client of one run. getenv supplies
// CLOUDFLARE_API_TOKEN (required) and CLOUDFLARE_BASE_URL (optional, for
// emulators); httpClient may be nil; limiter is the run's shared token
// bucket (nil: NewLimiter()). Retries are owned by a RoundTripper that waits
// on the limiter before every attempt, backs off exponentially with jitter,
// honours Retry-After, and never resends a create whose outcome is unknown.
func NewClient(getenv func(string) string, httpClient *http.Client, limiter *rate.Limiter, opts ...ClientOption) (*Client, error) {
	token := getenv(EnvAPIToken)
	if token == "" {
		return nil, fmt.Errorf("cloudflare: %s is not set; create an API token with Zone (DNS, Zone Settings, SSL and Certificates, Load Balancers, Config Rules/WAF) and Account Load Balancing permissions", EnvAPIToken)
	}
	base, err := parseBaseURL(Endpoint(getenv))
	if err != nil {
		return nil, err
	}
	var cfg clientConfig
	for _, o := range opts {
		o(&cfg)
	}
	if limiter == nil {
		limiter = NewLimiter()
	}
	hc := &http.Client{}
	if httpClient != nil {
		*hc = *httpClient
	}
	transport := hc.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	// The client's timeout bounds each attempt, not the retries and the
	// waits a 429's Retry-After asks for, which may be minutes.
	pol := withDefaults(cfg.retry)
	hc.Transport = &httpretry.Transport{Base: transport, Policy: pol, AttemptTimeout: hc.Timeout,
		Decide: decide, Retrying: retryNote(pol.MaxAttempts),
		Before: func(ctx context.Context, _ *http.Request, _ int) error { return limiter.Wait(ctx) }}
	hc.Timeout = 0
	return &Client{base: base, token: token, hc: hc, userAgent: "nekoctl/" + version.Version}, nil
}

// parseBaseURL checks the API's base URL and gives a path a trailing slash,
// as the Cloudflare SDK does: "http://host/client/v4" and
// "http://host/client/v4/" both put "zones" at /client/v4/zones.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cloudflare: %s %q is not an http(s) URL with a host", EnvBaseURL, raw)
	}
	if u.Path != "" && !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u, nil
}

// Endpoint is the API's base URL: CLOUDFLARE_BASE_URL, else DefaultBaseURL.
func Endpoint(getenv func(string) string) string {
	if u := getenv(EnvBaseURL); u != "" {
		return u
	}
	return DefaultBaseURL
}

// errOutcomeUnknown marks a non-idempotent request (a create) whose answer
// was lost: the change may or may not have been made.
var errOutcomeUnknown = httpretry.ErrOutcomeUnknown

// decide retries 429s always, and lost connections and 5xx when the request
// is safe to repeat.
func decide(req *http.Request, res *http.Response, err error) (bool, error) {
	switch {
	case err != nil && !httpretry.Idempotent(req.Method):
		return false, fmt.Errorf("%w: %v", errOutcomeUnknown, err)
	case err != nil:
		return true, nil
	case res.StatusCode == http.StatusTooManyRequests:
		return true, nil
	}
	return res.StatusCode >= 500 && httpretry.Idempotent(req.Method), nil
}

// retryNote tells the run's progress about each retry and its wait.
func retryNote(attempts int) func(context.Context, *http.Request, *http.Response, error, time.Duration, int) {
	return func(ctx context.Context, req *http.Request, res *http.Response, err error, wait time.Duration, next int) {
		notify(ctx, fmt.Sprintf("%s %s: %s; retrying in %s (attempt %d of %d)",
			req.Method, req.URL.Path, reason(res, err), wait.Round(time.Millisecond), next, attempts))
	}
}

func reason(res *http.Response, err error) string {
	switch {
	case err != nil:
		return "connection failed"
	case res.StatusCode == http.StatusTooManyRequests:
		return "rate limited (429)"
	}
	return fmt.Sprintf("server error (%d)", res.StatusCode)
}

type notifyKey struct{}

// withNotify attaches a progress reporter that the transport tells about
// retries and waits.
func withNotify(ctx context.Context, f func(string)) context.Context {
	return context.WithValue(ctx, notifyKey{}, f)
}

func notify(ctx context.Context, msg string) {
	if f, ok := ctx.Value(notifyKey{}).(func(string)); ok && f != nil {
		f(msg)
	}
}

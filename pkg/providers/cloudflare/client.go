package cloudflare

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	"golang.org/x/time/rate"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
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

// RetryPolicy is how failed calls are retried. The SDK's own retries are
// turned off so that this policy, and the shared token bucket, see every
// attempt.
type RetryPolicy struct {
	// MaxAttempts counts the first try (default 8).
	MaxAttempts int
	// BaseDelay doubles per attempt up to MaxDelay; full jitter is applied
	// (defaults 500ms and 30s). Retry-After, when longer, wins.
	BaseDelay, MaxDelay time.Duration
	// Sleep waits; tests replace it. It must return early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0,1); tests replace it.
	Jitter func() float64
}

func (p RetryPolicy) withDefaults() RetryPolicy {
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

// NewClient builds the Cloudflare client of one run. getenv supplies
// CLOUDFLARE_API_TOKEN (required) and CLOUDFLARE_BASE_URL (optional, for
// emulators); httpClient may be nil; limiter is the run's shared token
// bucket (nil: NewLimiter()). Retries are owned by a RoundTripper that waits
// on the limiter before every attempt, backs off exponentially with jitter,
// honours Retry-After, and never resends a create whose outcome is unknown.
func NewClient(getenv func(string) string, httpClient *http.Client, limiter *rate.Limiter, opts ...ClientOption) (*cf.Client, error) {
	token := getenv(EnvAPIToken)
	if token == "" {
		return nil, fmt.Errorf("cloudflare: %s is not set; create an API token with Zone (DNS, Zone Settings, SSL and Certificates, Load Balancers, Config Rules/WAF) and Account Load Balancing permissions", EnvAPIToken)
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
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	// The client's timeout bounds each attempt, not the retries and the
	// waits a 429's Retry-After asks for, which may be minutes.
	hc.Transport = &retryTransport{base: base, limiter: limiter, policy: cfg.retry.withDefaults(), attemptTimeout: hc.Timeout}
	hc.Timeout = 0
	ro := []option.RequestOption{
		option.WithAPIToken(token),
		option.WithHTTPClient(hc),
		option.WithMaxRetries(0),
		// Credentials other than the token must not leak in from the environment.
		option.WithHeaderDel("X-Auth-Key"),
		option.WithHeaderDel("X-Auth-Email"),
		option.WithHeaderDel("X-Auth-User-Service-Key"),
	}
	baseURL := getenv(EnvBaseURL)
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	ro = append(ro, option.WithBaseURL(baseURL))
	return cf.NewClient(ro...), nil
}

// errOutcomeUnknown marks a non-idempotent request (a create) whose response
// was lost: the change may or may not have been made.
var errOutcomeUnknown = errors.New("the request may have been applied but its response was lost")

type retryTransport struct {
	base           http.RoundTripper
	limiter        *rate.Limiter
	policy         RetryPolicy
	attemptTimeout time.Duration
}

// cancelBody ends an attempt's context when its body is closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	p := t.policy
	for attempt := 1; ; attempt++ {
		if err := t.limiter.Wait(ctx); err != nil {
			return nil, err
		}
		res, err := t.try(ctx, req, body, attempt)
		retry := false
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			if !idempotent(req.Method) {
				return nil, fmt.Errorf("%w: %v", errOutcomeUnknown, err)
			}
			retry = true
		case res.StatusCode == http.StatusTooManyRequests:
			retry = true
		case res.StatusCode >= 500 && idempotent(req.Method):
			retry = true
		}
		if !retry || attempt >= p.MaxAttempts {
			if err != nil {
				return nil, err
			}
			return res, nil
		}
		wait := backoff(p, attempt)
		if res != nil {
			if ra, ok := retryAfter(res); ok && ra > wait {
				wait = ra
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
		}
		notify(ctx, fmt.Sprintf("%s %s: %s; retrying in %s (attempt %d of %d)",
			req.Method, req.URL.Path, reason(res, err), wait.Round(time.Millisecond), attempt+1, p.MaxAttempts))
		if err := p.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// try makes one attempt, bounded by the attempt timeout; the attempt's
// context ends when the response body is closed.
func (t *retryTransport) try(ctx context.Context, req *http.Request, body []byte, attempt int) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if t.attemptTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.attemptTimeout)
	}
	r := req.Clone(ctx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	r.Header.Set("X-Stainless-Retry-Count", strconv.Itoa(attempt-1))
	res, err := t.base.RoundTrip(r)
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = cancelBody{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

// backoff is exponential with equal jitter: a random wait in [d/2, d) where
// d doubles per attempt up to MaxDelay.
func backoff(p RetryPolicy, attempt int) time.Duration {
	d := p.BaseDelay << (attempt - 1)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	return d/2 + time.Duration(p.Jitter()*float64(d/2))
}

func retryAfter(res *http.Response) (time.Duration, bool) {
	v := res.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t), true
	}
	return 0, false
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

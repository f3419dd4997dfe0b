package atlas

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// Environment variables holding Atlas credentials, as the Atlas CLI and
// Terraform provider name them. A service account is preferred.
const (
	EnvClientID      = "MONGODB_ATLAS_CLIENT_ID"
	EnvClientSecret  = "MONGODB_ATLAS_CLIENT_SECRET"
	EnvPublicAPIKey  = "MONGODB_ATLAS_PUBLIC_API_KEY"
	EnvPrivateAPIKey = "MONGODB_ATLAS_PRIVATE_API_KEY"
	EnvPublicKey     = "MONGODB_ATLAS_PUBLIC_KEY"
	EnvPrivateKey    = "MONGODB_ATLAS_PRIVATE_KEY"
)

// ErrNoCredentials is returned by NewClient when no credentials are set.
var ErrNoCredentials = errors.New("no Atlas credentials: set " + EnvClientID + " and " + EnvClientSecret +
	" (service account), or " + EnvPublicAPIKey + " and " + EnvPrivateAPIKey + " (API key)")

// NewClient builds an Atlas client from the environment: a service account
// (OAuth client credentials) or an API key pair (HTTP Digest). Requests go
// through httpClient's transport (http.DefaultTransport when nil) wrapped in
// a RetryTransport; http.DefaultClient is never modified. ctx must live as
// long as the client: service-account tokens are fetched with it.
func NewClient(ctx context.Context, getenv func(string) string, baseURL string, httpClient *http.Client) (*admin.APIClient, error) {
	base := http.DefaultTransport
	var timeout time.Duration
	if httpClient != nil {
		if httpClient.Transport != nil {
			base = httpClient.Transport
		}
		timeout = httpClient.Timeout
	}
	agent := admin.UseUserAgent("nekoctl/" + version.Version)
	id, secret := getenv(EnvClientID), getenv(EnvClientSecret)
	if id != "" && secret != "" {
		hc := &http.Client{Transport: &RetryTransport{Base: base}, Timeout: timeout}
		ctx = context.WithValue(ctx, auth.HTTPClient, hc)
		// UseBaseURL first: the token URL is derived from it.
		return admin.NewClient(admin.UseBaseURL(baseURL), admin.UseOAuthAuth(ctx, id, secret), agent)
	}
	pub, priv := first(getenv, EnvPublicAPIKey, EnvPublicKey), first(getenv, EnvPrivateAPIKey, EnvPrivateKey)
	if pub != "" && priv != "" {
		// Retries wrap Digest so that each attempt answers a fresh challenge.
		rt := &RetryTransport{Base: digest.NewTransportWithHTTPRoundTripper(pub, priv, base)}
		return admin.NewClient(admin.UseBaseURL(baseURL), admin.UseHTTPClient(&http.Client{Transport: rt, Timeout: timeout}), agent)
	}
	return nil, ErrNoCredentials
}

func first(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// RetryTransport retries requests Atlas refused with 429 (any method) or
// 503 (all but POST, whose effect is unknown: the caller re-reads before
// retrying a create) and GETs whose connection failed. It waits at least
// Retry-After, else an exponential backoff with jitter.
type RetryTransport struct {
	Base http.RoundTripper
	// MaxAttempts per request (default 8).
	MaxAttempts int
	// BaseDelay and MaxDelay bound the backoff (defaults 1s and 60s);
	// Retry-After is honoured even above MaxDelay.
	BaseDelay, MaxDelay time.Duration
	// Sleep waits; tests may replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	attempts, baseDelay, maxDelay := t.MaxAttempts, t.BaseDelay, t.MaxDelay
	if attempts <= 0 {
		attempts = 8
	}
	if baseDelay <= 0 {
		baseDelay = time.Second
	}
	if maxDelay <= 0 {
		maxDelay = 60 * time.Second
	}
	wait := t.Sleep
	if wait == nil {
		wait = ctxtime.Sleep
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if req.Body != nil && req.GetBody == nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		req.Body, _ = req.GetBody()
	}
	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 && req.GetBody != nil {
			r = req.Clone(req.Context())
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
		resp, err := base.RoundTrip(r)
		retry, after := t.shouldRetry(req, resp, err)
		if !retry || attempt >= attempts {
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
		}
		d := max(after, backoff(attempt, baseDelay, maxDelay))
		if err := wait(req.Context(), d); err != nil {
			return nil, err
		}
	}
}

func (t *RetryTransport) shouldRetry(req *http.Request, resp *http.Response, err error) (bool, time.Duration) {
	if err != nil {
		return req.Method == http.MethodGet && req.Context().Err() == nil, 0
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests:
	case http.StatusServiceUnavailable:
		if req.Method == http.MethodPost {
			return false, 0
		}
	default:
		return false, 0
	}
	return true, retryAfter(resp.Header.Get("Retry-After"))
}

// retryAfter reads seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// backoff is base·2^(attempt-1), capped, with up to 50% jitter added.
func backoff(attempt int, base, maxDelay time.Duration) time.Duration {
	d := base << min(attempt-1, 20)
	if d > maxDelay || d <= 0 {
		d = maxDelay
	}
	return d + time.Duration(rand.Int64N(int64(d)/2+1))
}

// Build is what the factory calls: the provider for one run, offline
// without a client (Desired only), otherwise with a client from the
// environment for spec.atlas.baseURL. It copies the run's rotation choice
// into cfg.
func Build(ctx context.Context, st *spec.Stack, opts provider.Options, getenv func(string) string, httpClient *http.Client, cfg Config) (*Provider, error) {
	cfg.RotateDBPassword = opts.RotateDBPassword
	if opts.Offline {
		return New(st, nil, cfg), nil
	}
	client, err := NewClient(ctx, getenv, st.Spec.Atlas.BaseURL, httpClient)
	if err != nil {
		return nil, err
	}
	return New(st, client, cfg), nil
}

package atlas

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth"

	"github.com/neko-defense/nekoctl/internal/idcache"
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
// a RetryTransport with policy (zero value: the defaults); httpClient's
// Timeout bounds each attempt, not the retries and the waits between them.
// http.DefaultClient is never modified. ctx must live as long as the
// client: service-account tokens are fetched with it.
func NewClient(ctx context.Context, getenv func(string) string, baseURL string, httpClient *http.Client, policy ...RetryPolicy) (*admin.APIClient, error) {
	base := http.DefaultTransport
	var timeout time.Duration
	if httpClient != nil {
		if httpClient.Transport != nil {
			base = httpClient.Transport
		}
		timeout = httpClient.Timeout
	}
	var pol RetryPolicy
	if len(policy) > 0 {
		pol = policy[0]
	}
	agent := admin.UseUserAgent("nekoctl/" + version.Version)
	id, secret := getenv(EnvClientID), getenv(EnvClientSecret)
	if id != "" && secret != "" {
		hc := &http.Client{Transport: &RetryTransport{Base: base, Policy: pol, AttemptTimeout: timeout}}
		ctx = context.WithValue(ctx, auth.HTTPClient, hc)
		// UseBaseURL first: the token URL is derived from it.
		return admin.NewClient(admin.UseBaseURL(baseURL), admin.UseOAuthAuth(ctx, id, secret), agent)
	}
	pub, priv := first(getenv, EnvPublicAPIKey, EnvPublicKey), first(getenv, EnvPrivateAPIKey, EnvPrivateKey)
	if pub != "" && priv != "" {
		// Retries wrap Digest so that each attempt answers a fresh challenge.
		rt := &RetryTransport{Base: digest.NewTransportWithHTTPRoundTripper(pub, priv, base), Policy: pol, AttemptTimeout: timeout}
		return admin.NewClient(admin.UseBaseURL(baseURL), admin.UseHTTPClient(&http.Client{Transport: rt}), agent)
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

// Build is what the factory calls: the provider for one run, offline
// without a client (Desired only), otherwise with a client from the
// environment for spec.atlas.baseURL. It copies the run's rotation choice
// into cfg.
func Build(ctx context.Context, st *spec.Stack, opts provider.Options, getenv func(string) string, httpClient *http.Client, cfg Config) (*Provider, error) {
	cfg.RotateDBPassword, cfg.DeleteBackups = opts.RotateDBPassword, opts.DeleteBackups
	cfg.CacheDir = idcache.Dir(cfg.CacheDir, "atlas")
	if opts.Offline {
		return New(st, nil, cfg), nil
	}
	client, err := NewClient(ctx, getenv, st.Spec.Atlas.BaseURL, httpClient)
	if err != nil {
		return nil, err
	}
	return New(st, client, cfg), nil
}

package atlas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
	"github.com/neko-defense/nekoctl/internal/httpretry"
)

// RetryPolicy is how the Atlas client retries: 429 on any request (Atlas
// refused it before doing anything), 5xx and lost connections on requests
// that are safe to repeat, waiting Retry-After or an exponential backoff
// with jitter, for at most MaxAttempts tries (default 8) and MaxElapsed in
// all (default 5m), from BaseDelay (1s) doubling up to MaxDelay (30s). A
// POST whose answer was lost is not repeated here: the caller reads back by
// identity first (see Provider.createChecked). Protocol failures (a Digest
// challenge the client cannot answer, any other 4xx) are never retried.
type RetryPolicy = httpretry.Policy

func withDefaults(p RetryPolicy) RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 30 * time.Second
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = 5 * time.Minute
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

// ErrOutcomeUnknown marks a request that is not safe to repeat (a create)
// whose answer was lost: Atlas may or may not have made the change.
var ErrOutcomeUnknown = httpretry.ErrOutcomeUnknown

// RetryTransport applies a RetryPolicy below the SDK. AttemptTimeout (the
// http.Client's Timeout, moved here) bounds each attempt, so that waiting
// out a burst of 429s is not cut short by a client timeout.
type RetryTransport struct {
	Base           http.RoundTripper
	Policy         RetryPolicy
	AttemptTimeout time.Duration
}

func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt := &httpretry.Transport{Base: t.Base, Policy: withDefaults(t.Policy), AttemptTimeout: t.AttemptTimeout, Decide: decide}
	return rt.RoundTrip(req)
}

// decide retries 429s always, 5xx and lost connections when the request is
// safe to repeat, and never a protocol failure.
func decide(req *http.Request, res *http.Response, err error) (bool, error) {
	switch {
	case err != nil && !networkError(err):
		return false, err // a protocol failure: repeating it changes nothing
	case err != nil && !httpretry.Idempotent(req.Method):
		return false, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	case err != nil:
		return true, nil
	case res.StatusCode == http.StatusTooManyRequests:
		return true, nil
	}
	return retryableStatus(res.StatusCode) && httpretry.Idempotent(req.Method), nil
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// networkError: the connection failed or was cut, or the attempt timed out.
// Anything else a transport returns (the Digest transport's ErrBadChallenge,
// an unsupported algorithm) is a protocol failure.
func networkError(err error) bool {
	// The SDK's http.Client wraps every transport failure in a *url.Error,
	// which is a net.Error itself: look at what it wraps.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// answerLost reports a failed create whose effect is unknown: no answer,
// or a server-side failure that may have come after the change was made.
// A 429 was refused before anything happened, but reading back is harmless.
func answerLost(err error) bool {
	if e, ok := admin.AsError(err); ok && e.GetError() != 0 {
		return e.GetError() >= 500 || e.GetError() == http.StatusTooManyRequests
	}
	return errors.Is(err, ErrOutcomeUnknown) || networkError(err)
}

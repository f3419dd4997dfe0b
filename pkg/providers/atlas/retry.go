package atlas

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/internal/ctxtime"
)

// RetryPolicy is how the Atlas client retries: 429 on any request (Atlas
// refused it before doing anything), 5xx and lost connections on requests
// that are safe to repeat, waiting Retry-After or an exponential backoff
// with jitter, for at most MaxAttempts tries and MaxElapsed in all. A POST
// whose answer was lost is not repeated here: the caller reads back by
// identity first (see Provider.createChecked). Protocol failures (a Digest
// challenge the client cannot answer, any other 4xx) are never retried.
type RetryPolicy struct {
	// MaxAttempts counts the first try (default 8).
	MaxAttempts int
	// BaseDelay doubles per attempt up to MaxDelay (defaults 1s and 30s);
	// Retry-After, when longer, wins.
	BaseDelay, MaxDelay time.Duration
	// MaxElapsed bounds the time spent on one request: no retry is started
	// whose wait would end past it (default 5m).
	MaxElapsed time.Duration
	// Sleep waits; tests replace it. It must return early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock MaxElapsed is measured with; tests replace it.
	Now func() time.Time
	// Jitter returns a number in [0,1); tests replace it.
	Jitter func() float64
}

func (p RetryPolicy) withDefaults() RetryPolicy {
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

// backoff is exponential with equal jitter: a random wait in [d/2, d) where
// d doubles per attempt up to MaxDelay.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.BaseDelay << min(attempt-1, 20)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	return d/2 + time.Duration(p.Jitter()*float64(d/2))
}

// ErrOutcomeUnknown marks a request that is not safe to repeat (a create)
// whose answer was lost: Atlas may or may not have made the change.
var ErrOutcomeUnknown = errors.New("the request may have been applied but its answer was lost")

// RetryTransport applies a RetryPolicy below the SDK. AttemptTimeout (the
// http.Client's Timeout, moved here) bounds each attempt, so that waiting
// out a burst of 429s is not cut short by a client timeout.
type RetryTransport struct {
	Base           http.RoundTripper
	Policy         RetryPolicy
	AttemptTimeout time.Duration
}

func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := t.Policy.withDefaults()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	start := p.Now()
	for attempt := 1; ; attempt++ {
		res, err := t.try(ctx, req, body)
		retry := false
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil && !networkError(err):
			return nil, err // a protocol failure: repeating it changes nothing
		case err != nil && !idempotent(req.Method):
			return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		case err != nil:
			retry = true
		case res.StatusCode == http.StatusTooManyRequests:
			retry = true
		case retryableStatus(res.StatusCode) && idempotent(req.Method):
			retry = true
		}
		if !retry || attempt >= p.MaxAttempts {
			return res, err
		}
		wait := p.backoff(attempt)
		if res != nil {
			if ra, ok := retryAfter(res); ok && ra > wait {
				wait = ra
			}
		}
		if p.Now().Add(wait).Sub(start) > p.MaxElapsed {
			return res, err
		}
		if res != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			_ = res.Body.Close()
		}
		if err := p.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// try makes one attempt, bounded by AttemptTimeout; the attempt's context
// ends when the response body is closed.
func (t *RetryTransport) try(ctx context.Context, req *http.Request, body []byte) (*http.Response, error) {
	cancel := context.CancelFunc(func() {})
	if t.AttemptTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, t.AttemptTimeout)
	}
	r := req.Clone(ctx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	res, err := base.RoundTrip(r)
	if err != nil {
		cancel()
		return nil, err
	}
	res.Body = cancelBody{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

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

func retryAfter(res *http.Response) (time.Duration, bool) {
	v := res.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
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

// Package httpretry is the retry loop below the Cloudflare client and the Atlas SDK:
// each provider says which answers are worth another attempt; the loop owns
// the waits (exponential backoff with jitter, Retry-After), the bound per
// attempt and the resending of the request body.
package httpretry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Policy is how long and how often a request is repeated.
type Policy struct {
	// MaxAttempts counts the first try.
	MaxAttempts int
	// BaseDelay doubles per attempt up to MaxDelay; Retry-After, when
	// longer, wins.
	BaseDelay, MaxDelay time.Duration
	// MaxElapsed, when set, bounds the time spent on one request: no retry
	// is started whose wait would end past it.
	MaxElapsed time.Duration
	// Sleep waits; tests replace it. It must return early when ctx ends.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock MaxElapsed is measured with; tests replace it.
	Now func() time.Time
	// Jitter returns a number in [0,1); tests replace it.
	Jitter func() float64
}

// Backoff is exponential with equal jitter: a random wait in [d/2, d) where
// d doubles per attempt up to MaxDelay.
func (p Policy) Backoff(attempt int) time.Duration {
	d := p.BaseDelay << min(attempt-1, 20)
	if d > p.MaxDelay || d <= 0 {
		d = p.MaxDelay
	}
	return d/2 + time.Duration(p.Jitter()*float64(d/2))
}

// RetryAfter reads a Retry-After header in seconds or as an HTTP date.
func RetryAfter(res *http.Response) (time.Duration, bool) {
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

// Idempotent reports methods that are safe to send again when their answer
// was lost.
func Idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Transport repeats a request per Policy (with every field set).
type Transport struct {
	Base   http.RoundTripper
	Policy Policy
	// AttemptTimeout (an http.Client's Timeout, moved here) bounds each
	// attempt, so that waiting out a burst of 429s is not cut short.
	AttemptTimeout time.Duration
	// Decide judges an attempt: retry it, or return err (replacing the
	// attempt's error when not nil). ctx errors are handled before it.
	Decide func(req *http.Request, res *http.Response, err error) (retry bool, fail error)
	// Before, when set, runs before every attempt (a shared rate limiter's
	// wait) and may prepare the attempt's request; its error ends the loop.
	Before func(ctx context.Context, r *http.Request, attempt int) error
	// Retrying, when set, is told about each retry before its wait.
	Retrying func(ctx context.Context, req *http.Request, res *http.Response, err error, wait time.Duration, next int)
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	p := t.Policy
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
		res, err := t.try(ctx, req, body, attempt)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		retry, fail := t.Decide(req, res, err)
		if fail != nil {
			return nil, fail
		}
		if !retry || attempt >= p.MaxAttempts {
			return res, err
		}
		wait := p.Backoff(attempt)
		if res != nil {
			if ra, ok := RetryAfter(res); ok && ra > wait {
				wait = ra
			}
		}
		if p.MaxElapsed > 0 && p.Now().Add(wait).Sub(start) > p.MaxElapsed {
			return res, err
		}
		if res != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
			_ = res.Body.Close()
		}
		if t.Retrying != nil {
			t.Retrying(ctx, req, res, err, wait, attempt+1)
		}
		if err := p.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// try makes one attempt, bounded by AttemptTimeout from after Before (a
// rate limiter's wait is not the attempt's time); the attempt's context ends
// when the response body is closed.
func (t *Transport) try(ctx context.Context, req *http.Request, body []byte, attempt int) (*http.Response, error) {
	r := req.Clone(ctx)
	if body != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	if t.Before != nil {
		if err := t.Before(ctx, r, attempt); err != nil {
			return nil, err
		}
	}
	cancel := context.CancelFunc(func() {})
	if t.AttemptTimeout > 0 {
		var actx context.Context
		actx, cancel = context.WithTimeout(ctx, t.AttemptTimeout)
		r = r.WithContext(actx)
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

// ErrOutcomeUnknown marks a request that is not safe to repeat (a create)
// whose answer was lost: the change may or may not have been made.
var ErrOutcomeUnknown = errors.New("the request may have been applied but its answer was lost")

package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	cf "github.com/cloudflare/cloudflare-go/v7"
)

// api is the slice of the Cloudflare API the provider uses. Bodies are the
// service's JSON (maps), so fields nekoctl does not know survive a
// read-modify-write; the SDK supplies transport, auth, base URL and errors.
// Generated v7 request types change between minor releases, so they stay
// out of the provider.
type api interface {
	// list GETs every page of a collection.
	list(ctx context.Context, path string, query url.Values) ([]obj, error)
	get(ctx context.Context, path string) (obj, error)
	send(ctx context.Context, method, path string, body any) (obj, error)
}

// obj is one API object as decoded JSON.
type obj = map[string]any

type sdkAPI struct {
	c *cf.Client
	// notify reports retries and waits as progress.
	notify func(string)
	// sem bounds the calls in flight.
	sem chan struct{}
}

type envelope struct {
	Success    bool            `json:"success"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
		// Cursor paginated lists.
		Cursor string `json:"cursor"`
	} `json:"result_info"`
}

func (a sdkAPI) do(ctx context.Context, method, path string, body any) (envelope, error) {
	var env envelope
	if a.sem != nil {
		select {
		case a.sem <- struct{}{}:
			defer func() { <-a.sem }()
		case <-ctx.Done():
			return env, ctx.Err()
		}
	}
	if a.notify != nil {
		ctx = withNotify(ctx, a.notify)
	}
	var params any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return env, err
		}
		params = b
	}
	if err := a.c.Execute(ctx, method, path, params, &env); err != nil {
		return env, err
	}
	return env, nil
}

func (a sdkAPI) list(ctx context.Context, path string, query url.Values) ([]obj, error) {
	var out []obj
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for page := 1; ; page++ {
		q.Set("page", strconv.Itoa(page))
		env, err := a.do(ctx, http.MethodGet, path+"?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		var items []obj
		if err := json.Unmarshal(env.Result, &items); err != nil {
			return nil, fmt.Errorf("GET %s: unexpected result: %w", path, err)
		}
		out = append(out, items...)
		if env.ResultInfo == nil || env.ResultInfo.TotalPages <= page {
			return out, nil
		}
	}
}

func (a sdkAPI) get(ctx context.Context, path string) (obj, error) {
	return a.send(ctx, http.MethodGet, path, nil)
}

func (a sdkAPI) send(ctx context.Context, method, path string, body any) (obj, error) {
	env, err := a.do(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	var o obj
	if len(env.Result) > 0 && string(env.Result) != "null" {
		if err := json.Unmarshal(env.Result, &o); err != nil {
			return nil, fmt.Errorf("%s %s: unexpected result: %w", method, path, err)
		}
	}
	return o, nil
}

// apiErr describes a Cloudflare error without the request dump, with the
// service's codes and messages.
func apiErr(err error) error {
	if err == nil {
		return nil
	}
	var e *cf.Error
	if !errors.As(err, &e) {
		return err
	}
	msg := fmt.Sprintf("HTTP %d", e.StatusCode)
	for _, d := range e.Errors {
		msg += fmt.Sprintf("; %d: %s", d.Code, d.Message)
	}
	return errors.New(msg)
}

// status returns the HTTP status of an API error, or 0.
func status(err error) int {
	var e *cf.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// hasCode reports whether an API error carries a Cloudflare error code.
func hasCode(err error, code int64) bool {
	var e *cf.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, d := range e.Errors {
		if d.Code == code {
			return true
		}
	}
	return false
}

// outcomeUnknown reports whether a create may have happened despite the error.
func outcomeUnknown(err error) bool {
	return errors.Is(err, errOutcomeUnknown) || status(err) >= 500
}

// str, num and bl read typed fields of an obj.
func str(o obj, k string) string { s, _ := o[k].(string); return s }

func num(o obj, k string) float64 { n, _ := o[k].(float64); return n }

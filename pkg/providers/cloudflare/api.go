package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// api is the slice of the Cloudflare API the provider uses. Bodies are the
// service's JSON (maps), so fields nekoctl does not know survive a
// read-modify-write.
type api interface {
	// list GETs every page of a collection.
	list(ctx context.Context, path string, query url.Values) ([]obj, error)
	get(ctx context.Context, path string) (obj, error)
	send(ctx context.Context, method, path string, body any) (obj, error)
}

// obj is one API object as decoded JSON.
type obj = map[string]any

// restAPI is api over one run's Client, with the provider's own bound on
// calls in flight and its progress reporter.
type restAPI struct {
	c *Client
	// notify reports retries and waits as progress.
	notify func(string)
	// sem bounds the calls in flight.
	sem chan struct{}
}

// envelope is the v4 API's answer around every result.
type envelope struct {
	Success    bool            `json:"success"`
	Errors     []ErrorDetail   `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
		// Cursor paginated lists.
		Cursor string `json:"cursor"`
	} `json:"result_info"`
}

// APIError is an answer of the API that is not a success: its HTTP status
// and the service's error codes and messages. It never holds the request,
// so no credential can reach a message.
type APIError struct {
	StatusCode int
	Errors     []ErrorDetail
}

// ErrorDetail is one entry of the envelope's errors[].
type ErrorDetail struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d", e.StatusCode)
	for _, d := range e.Errors {
		fmt.Fprintf(&b, "; %d: %s", d.Code, d.Message)
	}
	return b.String()
}

// maxErrorBody bounds what is read of a failed answer: a proxy's error page
// may be large, and only an envelope's errors[] is of use.
const maxErrorBody = 1 << 20

// do sends one request (path relative to the base URL, query included) and
// returns the answer's envelope. A body is sent as JSON.
func (c *Client) do(ctx context.Context, method, path string, body any) (envelope, error) {
	var env envelope
	u, err := c.base.Parse(strings.TrimLeft(path, "/"))
	if err != nil {
		return env, fmt.Errorf("%s %s: %w", method, path, err)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return env, fmt.Errorf("%s %s: encoding the body: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return env, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.hc.Do(req)
	if err != nil {
		// Cancellation is reported as itself, not as a failed request.
		if ctx.Err() != nil {
			return env, ctx.Err()
		}
		return env, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 {
		// A body that is not an envelope (a proxy's page) still gives the status.
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
		_ = json.Unmarshal(b, &env)
		return env, &APIError{StatusCode: res.StatusCode, Errors: env.Errors}
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return env, fmt.Errorf("%s %s: reading the answer: %w", method, req.URL.Path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return env, nil
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("%s %s: the answer (%s) is not the API's JSON: %w", method, req.URL.Path, res.Header.Get("Content-Type"), err)
	}
	if !env.Success && len(env.Errors) > 0 {
		return env, &APIError{StatusCode: res.StatusCode, Errors: env.Errors}
	}
	return env, nil
}

func (a restAPI) do(ctx context.Context, method, path string, body any) (envelope, error) {
	if a.sem != nil {
		select {
		case a.sem <- struct{}{}:
			defer func() { <-a.sem }()
		case <-ctx.Done():
			return envelope{}, ctx.Err()
		}
	}
	if a.notify != nil {
		ctx = withNotify(ctx, a.notify)
	}
	return a.c.do(ctx, method, path, body)
}

func (a restAPI) list(ctx context.Context, path string, query url.Values) ([]obj, error) {
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

func (a restAPI) get(ctx context.Context, path string) (obj, error) {
	return a.send(ctx, http.MethodGet, path, nil)
}

func (a restAPI) send(ctx context.Context, method, path string, body any) (obj, error) {
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

// apiErr is an API error's message without its type: it ends the
// provider's handling, so that a status checked further up (a 404 counted
// as done, a 403 explained) is only ever the status of the call just made.
func apiErr(err error) error {
	var e *APIError
	if !errors.As(err, &e) {
		return err
	}
	return errors.New(e.Error())
}

// status returns the HTTP status of an API error, or 0.
func status(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// hasCode reports whether an API error carries a Cloudflare error code.
func hasCode(err error, code int64) bool {
	var e *APIError
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

package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/workload/config"
	"github.com/neko-defense/nekoctl/pkg/workload/seed"
	"github.com/neko-defense/nekoctl/pkg/workload/server"
	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// instance is one running API server.
type instance struct {
	*server.Server
	URL  string
	stop context.CancelFunc
	done chan error
}

// startServer runs a server over the given services until the test ends.
func startServer(t testing.TB, mongoURI, redisAddr string, extra map[string]string) *instance {
	t.Helper()
	logLevel := slog.LevelError
	if testing.Verbose() {
		logLevel = slog.LevelInfo
	}
	return startServerLogging(t, mongoURI, redisAddr, extra, slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel}))
}

// startServerLogging is startServer with the server's log going to logs.
func startServerLogging(t testing.TB, mongoURI, redisAddr string, extra map[string]string, logs slog.Handler) *instance {
	t.Helper()
	cfg, err := config.Load(testenv.Env(mongoURI, redisAddr, extra))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{
		Logger:  slog.New(logs),
		Now:     time.Now,
		Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{Server: srv, URL: "http://" + ln.Addr().String(), stop: cancel, done: make(chan error, 1)}
	go func() { in.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { in.shutdown(t) })
	waitReady(t, in.URL)
	return in
}

func (in *instance) shutdown(t testing.TB) {
	in.stop()
	select {
	case err := <-in.done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
		in.done <- nil // later calls return at once
	case <-time.After(30 * time.Second):
		t.Errorf("server did not shut down within 30s")
	}
}

func waitReady(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server at %s not ready within 20s", url)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// services starts Redis and FerretDB, seeded with a small data set.
func services(t testing.TB, triggers int) (*testenv.Mongo, *testenv.Redis) {
	t.Helper()
	m := testenv.StartMongo(t)
	r := testenv.StartRedis(t)
	in := startServer(t, m.URI, r.Addr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := seed.Load(ctx, in.Store, seed.Options{Triggers: triggers, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	in.shutdown(t)
	return m, r
}

// gqlResponse is a GraphQL answer plus the HTTP details tests look at.
type gqlResponse struct {
	Status     int
	Header     http.Header
	Data       json.RawMessage `json:"data"`
	Errors     []gqlError      `json:"errors"`
	Extensions map[string]any  `json:"extensions"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func (r *gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// client sends GraphQL requests as one caller.
type client struct {
	t       testing.TB
	url     string
	token   string
	headers map[string]string
	http    *http.Client
}

func newClient(t testing.TB, url string) *client {
	return &client{t: t, url: url, http: &http.Client{Timeout: 10 * time.Second}}
}

func (c *client) do(query string, vars map[string]any) *gqlResponse {
	c.t.Helper()
	r, err := c.try(query, vars)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *client) try(query string, vars map[string]any) (*gqlResponse, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, c.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &gqlResponse{Status: resp.StatusCode, Header: resp.Header}
	if err := json.Unmarshal(b, out); err != nil {
		return out, &decodeError{status: resp.StatusCode, body: string(b)}
	}
	return out, nil
}

type decodeError struct {
	status int
	body   string
}

func (e *decodeError) Error() string {
	return "undecodable response " + http.StatusText(e.status) + ": " + e.body
}

// login returns a client with a token for the user.
func login(t testing.TB, url, user, password string) *client {
	t.Helper()
	c := newClient(t, url)
	r := c.do(`mutation($u:String!,$p:String!){login(username:$u,password:$p){token role}}`, map[string]any{"u": user, "p": password})
	var d struct {
		Login struct{ Token, Role string }
	}
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &d) != nil || d.Login.Token == "" {
		t.Fatalf("login %s: %+v", user, r.Errors)
	}
	c.token = d.Login.Token
	return c
}

func decode[T any](t testing.TB, r *gqlResponse) T {
	t.Helper()
	var v T
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
	return v
}

package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// syncBuffer collects a server's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIntrospectionRefusedAsClientError: with introspection off (the
// production default) a schema query is the client's mistake: a 4xx
// answer with a validation code, counted as such, and nothing logged at
// ERROR. __typename still works, and turning introspection on allows it.
func TestIntrospectionRefusedAsClientError(t *testing.T) {
	m, r := services(t, 10)
	var logs syncBuffer
	in := startServerLogging(t, m.URI, r.Addr, nil, slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	for name, query := range map[string]string{
		"__schema":           `{__schema{types{name}}}`,
		"__type":             `{__type(name:"ThreatActor"){fields{name}}}`,
		"through a fragment": `query{...Q} fragment Q on Query{__schema{queryType{name}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			got := viewer.do(query, nil)
			if got.Status < 400 || got.Status >= 500 || got.code() != "GRAPHQL_VALIDATION_FAILED" {
				t.Errorf("status %d, errors %+v; want a 4xx with GRAPHQL_VALIDATION_FAILED", got.Status, got.Errors)
			}
			if len(got.Errors) > 0 && !strings.Contains(got.Errors[0].Message, "introspection is disabled") {
				t.Errorf("message %q does not say introspection is disabled", got.Errors[0].Message)
			}
		})
	}
	if got := viewer.do(`{__typename me{__typename username}}`, nil); len(got.Errors) > 0 {
		t.Errorf("__typename refused: %+v", got.Errors)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a refused introspection was logged as an error:\n%s", logs.String())
	}
	if text := scrape(t, in.URL); containsLine(text, `neko_api_graphql_errors_total{code="INTERNAL_SERVER_ERROR"}`) ||
		!containsLine(text, `neko_api_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}`) {
		t.Errorf("errors not counted as validation failures:\n%s", text)
	}

	open := startServer(t, m.URI, r.Addr, map[string]string{"GRAPHQL_INTROSPECTION": "true"})
	viewer.url = open.URL
	if got := viewer.do(`{__schema{queryType{name}}}`, nil); len(got.Errors) > 0 {
		t.Errorf("introspection on: %+v", got.Errors)
	}
}

// TestUndecodableBodyNotEchoed: a batched request (a JSON array) or a body
// that is not a request object is refused with a message that says what is
// wrong and quotes nothing of the body, which may hold a password.
func TestUndecodableBodyNotEchoed(t *testing.T) {
	m, r := services(t, 10)
	in := startServer(t, m.URI, r.Addr, nil)
	login := `{"query":"mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}","variables":{"u":"admin","p":"` + testenv.AdminPassword + `"}}`
	tests := []struct {
		name, body, want string
	}{
		{"batch", "[" + login + "," + login + "]", "batched requests are not supported"},
		{"truncated", login[:len(login)-3], "not a GraphQL request"},
		{"wrong type", `{"query":"{me{username}}","variables":"` + testenv.AdminPassword + `"}`, "not a GraphQL request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(in.URL+"/graphql", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if strings.Contains(string(b), testenv.AdminPassword) || strings.Contains(string(b), "mutation") {
				t.Errorf("the answer echoes the body: %s", b)
			}
			var got gqlResponse
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("answer is not JSON: %s", b)
			}
			if resp.StatusCode != http.StatusBadRequest || got.code() != "BAD_REQUEST" || !strings.Contains(got.Errors[0].Message, tt.want) {
				t.Errorf("status %d, errors %+v; want 400 BAD_REQUEST saying %q", resp.StatusCode, got.Errors, tt.want)
			}
		})
	}
}

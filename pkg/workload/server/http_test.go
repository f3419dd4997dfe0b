package server_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func scrape(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// containsLine reports whether a metrics line starts with prefix.
func containsLine(text, prefix string) bool {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			return true
		}
	}
	return false
}

func TestEndpointsAndHeaders(t *testing.T) {
	m, r := services(t, 10)
	in := startServer(t, m.URI, r.Addr, map[string]string{"CORS_ORIGINS": "https://app.nekodefense.example", "MAX_BODY_BYTES": "2048"})

	get := func(path string, h map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, in.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	tests := []struct {
		name, path string
		status     int
		headers    map[string]string
	}{
		{"health", "/health", 200, map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}},
		{"ready", "/ready", 200, nil},
		{"static", "/static/index.html", 200, map[string]string{"Cache-Control": "public, max-age=31536000, immutable", "X-Frame-Options": "DENY"}},
		{"static directory", "/static/", 404, nil},
		{"static missing", "/static/nope.js", 404, nil},
		{"unknown", "/nope", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(tt.path, nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			for k, v := range tt.headers {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("Strict-Transport-Security") == "" {
				t.Errorf("security headers missing: %v", resp.Header)
			}
		})
	}
	t.Run("static revalidation", func(t *testing.T) {
		etag := get("/static/style.css", nil).Header.Get("ETag")
		if resp := get("/static/style.css", map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
		}
	})
	t.Run("cors", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodOptions, in.URL+"/graphql", nil)
		req.Header.Set("Origin", "https://app.nekodefense.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.nekodefense.example" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight from an allowed origin: %v", resp.Header)
		}
		req.Header.Set("Origin", "https://evil.example")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from another origin allowed: %v", resp.Header)
		}
	})
	t.Run("body limit", func(t *testing.T) {
		big := `{"query":"{__typename}","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`
		resp, err := http.Post(in.URL+"/graphql", "application/json", strings.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", resp.StatusCode)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		text := scrape(t, in.URL)
		for _, want := range []string{
			`neko_api_http_requests_total{code="200",method="get",route="health"}`,
			`neko_api_http_request_duration_seconds_bucket{route="static"`,
			`neko_api_http_requests_in_flight`,
			`neko_api_circuit_breaker_state{name="mongodb"} 0`,
			`neko_api_circuit_breaker_state{name="redis"} 0`,
		} {
			if !containsLine(text, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

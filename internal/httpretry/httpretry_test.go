package httpretry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestTransportResendsTheBodyAndStopsAtMaxElapsed(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		if len(bodies) < 3 {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	now := time.Unix(0, 0)
	var waits []time.Duration
	pol := Policy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: time.Minute,
		Sleep:  func(_ context.Context, d time.Duration) error { waits = append(waits, d); now = now.Add(d); return nil },
		Now:    func() time.Time { return now },
		Jitter: func() float64 { return 0 }}
	decide := func(_ *http.Request, res *http.Response, err error) (bool, error) {
		return err == nil && res.StatusCode >= 500, nil
	}
	client := &http.Client{Transport: &Transport{Policy: pol, Decide: decide}}
	res, err := client.Post(srv.URL, "text/plain", strings.NewReader("payload"))
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("after two 503s: %v %v", res, err)
	}
	_ = res.Body.Close()
	if strings.Join(bodies, ",") != "payload,payload,payload" {
		t.Errorf("bodies sent: %q", bodies)
	}
	// Retry-After (2s) wins over the backoff's first waits (0.5s, 1s).
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] != 2*time.Second {
		t.Errorf("waits: %v", waits)
	}

	bodies, waits = nil, nil
	pol.MaxElapsed = 3 * time.Second
	client = &http.Client{Transport: &Transport{Policy: pol, Decide: decide}}
	res, err = client.Get(srv.URL)
	if err != nil || res.StatusCode != http.StatusServiceUnavailable || len(bodies) != 2 {
		t.Errorf("with 3s to spend: status %v after %d attempts (%v), want the second 503", res.StatusCode, len(bodies), err)
	}
}

package atlas_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	emu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

// fakeClock advances only when the transport sleeps.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waits = append(c.waits, d)
	return nil
}

func TestRetryPolicy(t *testing.T) {
	type answer struct {
		status     int
		retryAfter string
	}
	for _, tc := range []struct {
		name      string
		method    string
		answers   []answer // the last one repeats
		wantCalls int32
		wantCode  int
		wantWaits func(t *testing.T, waits []time.Duration)
	}{
		{name: "429 waits Retry-After, then 503 backs off", method: http.MethodGet,
			answers:   []answer{{429, "7"}, {503, ""}, {200, ""}},
			wantCalls: 3, wantCode: 200,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 2 || w[0] != 7*time.Second || w[1] < time.Second || w[1] >= 2*time.Second {
					t.Errorf("waits %v, want [7s, 1s..2s)", w)
				}
			}},
		{name: "a create's 503 is left to the caller", method: http.MethodPost,
			answers: []answer{{503, ""}, {200, ""}}, wantCalls: 1, wantCode: 503},
		{name: "a create's 429 was refused: retried", method: http.MethodPost,
			answers: []answer{{429, "1"}, {201, ""}}, wantCalls: 2, wantCode: 201},
		{name: "other 4xx are not retried", method: http.MethodGet,
			answers: []answer{{400, ""}, {200, ""}}, wantCalls: 1, wantCode: 400},
		{name: "a PATCH's 502 is retried", method: http.MethodPatch,
			answers: []answer{{502, ""}, {200, ""}}, wantCalls: 2, wantCode: 200},
		{name: "bounded in time", method: http.MethodGet,
			answers: []answer{{503, "120"}}, wantCalls: 3, wantCode: 503,
			wantWaits: func(t *testing.T, w []time.Duration) {
				if len(w) != 2 {
					t.Errorf("waits %v: want 120s twice, then stop: a third wait would end past the 5m budget", w)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1))
				a := tc.answers[min(n, len(tc.answers))-1]
				if a.retryAfter != "" {
					w.Header().Set("Retry-After", a.retryAfter)
				}
				w.WriteHeader(a.status)
			}))
			t.Cleanup(ts.Close)
			clock := &fakeClock{now: time.Unix(0, 0)}
			rt := &atlas.RetryTransport{Policy: atlas.RetryPolicy{Sleep: clock.Sleep, Now: clock.Now, Jitter: func() float64 { return 0 }}}
			req, _ := http.NewRequest(tc.method, ts.URL, strings.NewReader("{}"))
			resp, err := (&http.Client{Transport: rt}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode || calls.Load() != tc.wantCalls {
				t.Errorf("got %d after %d calls, want %d after %d", resp.StatusCode, calls.Load(), tc.wantCode, tc.wantCalls)
			}
			if tc.wantWaits != nil {
				tc.wantWaits(t, clock.waits)
			}
		})
	}
}

// A connection cut on a create is reported as an unknown outcome, never
// resent by the transport; on a read it is retried.
func TestRetryTransportLostConnection(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 || r.Method == http.MethodPost {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(ts.Close)
	rt := &atlas.RetryTransport{Policy: atlas.RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }}}
	hc := &http.Client{Transport: rt}
	resp, err := hc.Get(ts.URL)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("GET after a cut connection: %v %v, %d calls", resp, err, calls.Load())
	}
	resp.Body.Close()
	_, err = hc.Post(ts.URL, "application/json", strings.NewReader("{}"))
	if !errors.Is(err, atlas.ErrOutcomeUnknown) || calls.Load() != 3 {
		t.Fatalf("POST: %v after %d calls; want ErrOutcomeUnknown after one more", err, calls.Load())
	}
}

// A Digest challenge the client cannot answer is a protocol failure: it
// fails at once instead of being retried for minutes.
func TestBadDigestChallengeFailsFast(t *testing.T) {
	srv := emu.New(emu.Options{})
	t.Cleanup(srv.Close)
	srv.SendBadChallenges(100)
	var waits atomic.Int32
	vars := map[string]string{atlas.EnvPublicAPIKey: emu.DefaultPublicKey, atlas.EnvPrivateAPIKey: emu.DefaultPrivateKey}
	c, err := atlas.NewClient(context.Background(), func(k string) string { return vars[k] }, srv.URL(), nil,
		atlas.RetryPolicy{Sleep: func(context.Context, time.Duration) error { waits.Add(1); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ProjectsApi.GetGroupByName(context.Background(), "neko").Execute()
	if err == nil || !strings.Contains(err.Error(), "challenge is bad") {
		t.Fatalf("want the Digest error, got %v", err)
	}
	if srv.Challenges() != 1 || waits.Load() != 0 {
		t.Fatalf("%d challenges and %d waits: a protocol error was retried", srv.Challenges(), waits.Load())
	}
}

// A burst of 429s whose Retry-After adds up to more than the client's
// timeout is waited out: the timeout bounds each attempt, not the retries.
func TestReadBurstOutlastsClientTimeout(t *testing.T) {
	srv := emu.New(emu.Options{})
	t.Cleanup(srv.Close)
	srv.SeedProject("neko", "")
	srv.AddFault(emu.Fault{Method: "GET", PathContains: "/groups/byName", Status: 429, RetryAfter: "1", Times: 2})
	vars := map[string]string{atlas.EnvPublicAPIKey: emu.DefaultPublicKey, atlas.EnvPrivateAPIKey: emu.DefaultPrivateKey}
	c, err := atlas.NewClient(context.Background(), func(k string) string { return vars[k] }, srv.URL(), &http.Client{Timeout: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ProjectsApi.GetGroupByName(context.Background(), "neko").Execute(); err != nil {
		t.Fatalf("the burst ended the read: %v", err)
	}
	if n := srv.Requests()["GET /groups/byName/{groupName}"]; n != 3 {
		t.Fatalf("%d reads, want 3", n)
	}
}

// Write faults on every kind of create: a 503 answered after the user was
// created, an access-list answer lost on the wire, a 503 before anything
// was made, and a burst of 429/503 on reads. The run converges with one of
// everything, each lost create read back before anything is resent.
func TestWriteFaultsConverge(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/databaseUsers", Status: 503, Applied: true})
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/accessList", Lost: true})
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/accessList", Status: 503})
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/groups", Status: 500, Applied: true})
	e.srv.AddFault(emu.Fault{Method: "GET", Status: 429, RetryAfter: "0", Times: 3})
	e.srv.AddFault(emu.Fault{Method: "GET", Status: 503, Times: 3})
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	got := map[string]int{}
	for k, v := range e.srv.Requests() {
		if strings.HasPrefix(k, "POST ") {
			got[k] = v
		}
	}
	want := map[string]int{
		"POST /groups":                         1, // answered 500 after it was made: found by name
		"POST /groups/{groupId}/clusters":      1,
		"POST /groups/{groupId}/databaseUsers": 1, // 503 after it was made: found, then updated
		"POST /groups/{groupId}/accessList":    4, // three entries: one lost (found), one refused (resent)
		"POST /groups/{groupId}/alertConfigs":  3,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("creates sent (-want +got):\n%s", diff)
	}
	if entries := e.srv.AccessEntries(gid); len(entries) != 3 {
		t.Errorf("access list %v", entries)
	}
	if pw, ok := e.srv.DatabaseUserPassword(gid, "neko-api"); !ok || pw != testPassword {
		t.Errorf("user password %q %v", pw, ok)
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)[string(plan.NoOp)] != len(again) {
		t.Errorf("after the faults: %v", actions(again))
	}
}

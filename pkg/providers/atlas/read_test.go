package atlas_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	emu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

// rounds holds the requests of each expected round until all of them are in
// flight at once, then lets them go together. A provider that sends them one
// after another leaves the first waiting for the others: the round is let
// go after a grace period and recorded as short.
type rounds struct {
	base  http.RoundTripper
	sizes []int
	grace time.Duration

	mu      sync.Mutex
	round   int
	waiting []chan struct{}
	got     [][]string // the requests of each round, as released
	short   []int      // rounds released by the grace period
}

func (r *rounds) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.round >= len(r.sizes) {
		r.mu.Unlock()
		return r.base.RoundTrip(req)
	}
	release := make(chan struct{})
	r.waiting = append(r.waiting, release)
	r.got[r.round] = append(r.got[r.round], req.Method+" "+req.URL.Path)
	if len(r.waiting) == r.sizes[r.round] {
		r.releaseLocked()
	}
	round := r.round
	r.mu.Unlock()
	select {
	case <-release:
	case <-time.After(r.grace):
		r.mu.Lock()
		if r.round == round {
			r.short = append(r.short, round)
			r.releaseLocked()
		}
		r.mu.Unlock()
	}
	return r.base.RoundTrip(req)
}

func (r *rounds) releaseLocked() {
	for _, c := range r.waiting {
		close(c)
	}
	r.waiting = nil
	r.round++
}

// roundsClient is a client whose requests go through r.
func roundsClient(t *testing.T, e *env, r *rounds) *admin.APIClient {
	t.Helper()
	r.base = digest.NewTransportWithHTTPRoundTripper(emu.DefaultPublicKey, emu.DefaultPrivateKey, http.DefaultTransport)
	r.got = make([][]string, len(r.sizes))
	c, err := admin.NewClient(admin.UseBaseURL(e.srv.URL()), admin.UseHTTPClient(&http.Client{Transport: r}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// planInRounds plans the existing stack with a fresh provider whose
// requests must come in rounds of the given sizes, and expects no change.
func planInRounds(t *testing.T, e *env, out provider.Outputs, cfg atlas.Config, sizes ...int) {
	t.Helper()
	r := &rounds{sizes: sizes, grace: 3 * time.Second}
	st := guideStack()
	cfg.Password = func() (string, error) { return testPassword, nil }
	e.srv.ResetCounts()
	for _, ch := range planWith(t, atlas.New(st, roundsClient(t, e, r), cfg), out, provider.Options{}) {
		if ch.Action != plan.NoOp {
			t.Errorf("%s %s", ch.Action, ch.Address)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.short) > 0 || r.round != len(sizes) {
		t.Errorf("reads were not sent in rounds of %v (rounds let go by the grace period: %v):\n%s", sizes, r.short, describeRounds(r.got))
	}
	if n := e.srv.Total(); n != 6 {
		t.Errorf("%d API calls, want 6\n%s", n, e.srv.CountSummary())
	}
}

// TestReadRounds: a plan of an existing stack waits for the project, then
// for its clusters, backup schedule, users and access list together: two
// round trips at a distance, not five. With the project's id remembered
// from the run that created it, everything is read at once; an id that no
// longer names the project costs the wasted round and is replaced.
func TestReadRounds(t *testing.T) {
	e := newEnv(t)
	cache := t.TempDir()
	st := guideStack()
	out := provider.NewOutputs()
	creator := atlas.New(st, e.client, atlas.Config{CacheDir: cache, PollInterval: 5 * time.Millisecond,
		Password: func() (string, error) { return testPassword, nil }, Sleep: shortSleep})
	if err := apply(t, creator, planWith(t, creator, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	out = secretsOnly(out)

	t.Run("no cache", func(t *testing.T) { planInRounds(t, e, out, atlas.Config{}, 1, 5) })
	t.Run("id remembered", func(t *testing.T) { planInRounds(t, e, out, atlas.Config{CacheDir: cache}, 6) })
	t.Run("stale id", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(cache, "projects", "*.json"))
		if len(files) != 1 {
			t.Fatalf("cache files %v, want one", files)
		}
		if err := os.WriteFile(files[0], []byte(`{"id":"0123456789abcdef01234567"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		r := &rounds{sizes: []int{6, 1, 5}, grace: 3 * time.Second}
		p := atlas.New(st, roundsClient(t, e, r), atlas.Config{CacheDir: cache, Password: func() (string, error) { return testPassword, nil }})
		for _, ch := range planWith(t, p, out, provider.Options{}) {
			if ch.Action != plan.NoOp {
				t.Errorf("%s %s", ch.Action, ch.Address)
			}
		}
		if len(r.short) > 0 {
			t.Errorf("rounds let go by the grace period: %v\n%s", r.short, describeRounds(r.got))
		}
		planInRounds(t, e, out, atlas.Config{CacheDir: cache}, 6)
	})
}

func describeRounds(got [][]string) string {
	var b strings.Builder
	for i, reqs := range got {
		fmt.Fprintf(&b, "round %d: %s\n", i+1, strings.Join(reqs, ", "))
	}
	return b.String()
}

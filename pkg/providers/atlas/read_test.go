package atlas_test

import (
	"fmt"
	"net/http"
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

// TestReadIsTwoRounds: a plan of an existing stack waits for the project,
// then for its clusters, backup schedule, users and access list together:
// two round trips at a distance, not five.
func TestReadIsTwoRounds(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)

	r := &rounds{sizes: []int{1, 4}, grace: 3 * time.Second, got: make([][]string, 2),
		base: digest.NewTransportWithHTTPRoundTripper(emu.DefaultPublicKey, emu.DefaultPrivateKey, http.DefaultTransport)}
	c, err := admin.NewClient(admin.UseBaseURL(e.srv.URL()), admin.UseHTTPClient(&http.Client{Transport: r}))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.ResetCounts()
	p := atlas.New(st, c, atlas.Config{Password: func() (string, error) { return testPassword, nil }})
	for _, ch := range planWith(t, p, out, provider.Options{}) {
		if ch.Action != plan.NoOp {
			t.Errorf("%s %s", ch.Action, ch.Address)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.short) > 0 || r.round != 2 {
		t.Errorf("reads were not sent in two rounds (rounds let go by the grace period: %v):\n%s", r.short, describeRounds(r.got))
	}
	if n := e.srv.Total(); n != 5 {
		t.Errorf("%d API calls, want 5\n%s", n, e.srv.CountSummary())
	}
}

func describeRounds(got [][]string) string {
	var b strings.Builder
	for i, reqs := range got {
		fmt.Fprintf(&b, "round %d: %s\n", i+1, strings.Join(reqs, ", "))
	}
	return b.String()
}

package status

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// gauge counts the Status calls in flight and the most seen at once.
type gauge struct {
	mu       sync.Mutex
	now, max int
}

// slowStatus is a provider whose Status takes a while.
type slowStatus struct {
	provider.Provider // only Name, Region and Status are called
	region            string
	g                 *gauge
	lines             []provider.Health
	err               error
}

func (s slowStatus) Name() string   { return "kubernetes" }
func (s slowStatus) Region() string { return s.region }
func (s slowStatus) Status(context.Context) ([]provider.Health, error) {
	s.g.mu.Lock()
	s.g.now++
	s.g.max = max(s.g.max, s.g.now)
	s.g.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	s.g.mu.Lock()
	s.g.now--
	s.g.mu.Unlock()
	return s.lines, s.err
}

// TestCollectIsBoundedByParallelism: every provider is asked at once, at
// most limit together, and the answers keep the providers' order.
func TestCollectIsBoundedByParallelism(t *testing.T) {
	for _, tc := range []struct{ limit, want int }{{1, 1}, {2, 2}, {8, 5}} {
		g := &gauge{}
		var ps []provider.Provider
		for _, r := range []string{"a", "b", "c", "d", "e"} {
			ps = append(ps, slowStatus{region: r, g: g})
		}
		res := collect(context.Background(), ps, tc.limit)
		if g.max != tc.want {
			t.Errorf("limit %d: %d at once, want %d", tc.limit, g.max, tc.want)
		}
		for i, r := range res {
			if r.region != ps[i].Region() {
				t.Errorf("limit %d: answer %d is of %s", tc.limit, i, r.region)
			}
		}
	}
}

// TestExitCodes: unhealthy wins over unreachable; healthy is 0.
func TestExitCodes(t *testing.T) {
	ok := []provider.Health{{Healthy: true}}
	bad := []provider.Health{{Healthy: false}}
	gone := errors.New("unreachable")
	for _, tc := range []struct {
		name    string
		results []result
		want    int
	}{
		{"healthy", []result{{lines: ok}, {lines: ok}}, cmdutil.ExitOK},
		{"unhealthy", []result{{lines: ok}, {lines: bad}}, cmdutil.ExitUnhealthy},
		{"unreachable", []result{{err: gone}, {lines: ok}}, cmdutil.ExitUnreachable},
		{"both", []result{{err: gone}, {lines: bad}}, cmdutil.ExitUnhealthy},
	} {
		if got := exitCode(tc.results); got != tc.want {
			t.Errorf("%s: exit %d, want %d", tc.name, got, tc.want)
		}
	}
}

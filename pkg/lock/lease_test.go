package lock

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
)

func startCluster(t *testing.T) kubernetes.Interface {
	t.Helper()
	return startEnv(t).Clientset("primary")
}

func startEnv(t *testing.T) *kubetest.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: the lock is tested against a real kube-apiserver")
	}
	env, err := kubetest.Start(context.Background(), kubetest.Options{}, "primary")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	return env
}

func newLease(cs kubernetes.Interface, who string, d time.Duration) *Lease {
	return NewLease(LeaseConfig{Client: cs.CoordinationV1(), Namespace: "kube-system", Name: "nekoctl-test",
		Labels: map[string]string{"app.kubernetes.io/managed-by": "nekoctl"}, Identity: who, Duration: d})
}

// TestLease runs the lock's life against one real API server: one holder at
// a time, refusal naming the holder, waiting, renewal, release, expiry of an
// abandoned lease and breaking a lock.
func TestLease(t *testing.T) {
	cs := startCluster(t)
	ctx := context.Background()
	const d = 3 * time.Second

	alice, bob := newLease(cs, "alice@a pid 1 #aaaaaa", d), newLease(cs, "bob@b pid 2 #bbbbbb", d)
	held, err := alice.Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("first acquire: %v", err)
	}
	_, err = bob.Acquire(ctx, 0)
	var he *HeldError
	if !errors.As(err, &he) || he.Holder.Identity != "alice@a pid 1 #aaaaaa" || he.Holder.Since.IsZero() {
		t.Fatalf("second acquire = %v, want a HeldError naming alice and since when", err)
	}
	if !strings.Contains(err.Error(), "alice@a pid 1") || !strings.Contains(err.Error(), "kube-system/nekoctl-test") {
		t.Errorf("refusal does not name the holder and the lease: %v", err)
	}

	t.Run("renewed while held", func(t *testing.T) {
		time.Sleep(d + d/2)
		if _, err := bob.Acquire(ctx, 0); !errors.As(err, &he) {
			t.Fatalf("after one lease duration the holder still renews, yet Acquire = %v", err)
		}
		select {
		case <-held.Lost():
			t.Fatal("the lock was lost while held")
		default:
		}
	})

	t.Run("a waiting run takes it when released", func(t *testing.T) {
		go func() {
			time.Sleep(time.Second)
			_ = held.Release(ctx)
		}()
		start := time.Now()
		h, err := bob.Acquire(ctx, time.Minute)
		if err != nil {
			t.Fatalf("waiting acquire: %v", err)
		}
		if waited := time.Since(start); waited > d {
			t.Errorf("waited %s for a released lock", waited)
		}
		got, err := bob.Holder(ctx)
		if err != nil || got == nil || got.Identity != "bob@b pid 2 #bbbbbb" {
			t.Errorf("Holder() = %+v, %v", got, err)
		}
		if err := h.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := bob.Holder(ctx); err != nil || got != nil {
			t.Errorf("after release Holder() = %+v, %v", got, err)
		}
	})

	t.Run("an abandoned lease expires", func(t *testing.T) {
		// take without keep: a holder killed right after taking the lock.
		if other, err := alice.take(ctx, alice.resourceLock()); err != nil || other != nil {
			t.Fatalf("take = %+v, %v", other, err)
		}
		if _, err := bob.Acquire(ctx, 0); !errors.As(err, &he) {
			t.Fatalf("a fresh abandoned lease was taken over: %v", err)
		}
		time.Sleep(d)
		h, err := bob.Acquire(ctx, 0)
		if err != nil {
			t.Fatalf("the expired lease was not taken: %v", err)
		}
		_ = h.Release(ctx)
	})

	t.Run("break", func(t *testing.T) {
		if other, err := alice.take(ctx, alice.resourceLock()); err != nil || other != nil {
			t.Fatalf("take = %+v, %v", other, err)
		}
		if err := bob.Break(ctx); err != nil {
			t.Fatal(err)
		}
		if got, err := bob.Holder(ctx); err != nil || got != nil {
			t.Errorf("after break Holder() = %+v, %v", got, err)
		}
		h, err := bob.Acquire(ctx, 0)
		if err != nil {
			t.Fatalf("acquire after break: %v", err)
		}
		_ = h.Release(ctx)
	})

	lease, err := cs.CoordinationV1().Leases("kube-system").Get(ctx, "nekoctl-test", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Labels["app.kubernetes.io/managed-by"] != "nekoctl" {
		t.Errorf("lease labels = %v", lease.Labels)
	}
}

// gate is a transport that lets the first open requests through and holds
// every later one until it is opened, recording each request's method.
type gate struct {
	next  http.RoundTripper
	open  int
	opens chan struct{}
	mu    sync.Mutex
	seen  []string
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.mu.Lock()
	g.seen = append(g.seen, r.Method)
	n := len(g.seen)
	g.mu.Unlock()
	if n > g.open {
		select {
		case <-g.opens:
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.RoundTrip(r)
}

func (g *gate) methods() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.seen...)
}

// TestAcquireTakesTwoRequests: taking the lock is one read and one write,
// one after the other; leader election's first renewal runs behind the
// run (here held back until the test lets it through), and a run released
// before it finished still releases the lease. Should that renewal never
// succeed, the lock is lost within the renew deadline.
func TestAcquireTakesTwoRequests(t *testing.T) {
	env := startEnv(t)
	ctx := context.Background()
	gated := func(open int) (*Lease, *gate) {
		g := &gate{open: open, opens: make(chan struct{})}
		cfg := env.RESTConfig("primary")
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { g.next = rt; return g })
		cs := kubernetes.NewForConfigOrDie(cfg)
		return NewLease(LeaseConfig{Client: cs.CoordinationV1(), Namespace: "kube-system", Name: "nekoctl-gated",
			Identity: "gated run", Duration: 3 * time.Second}), g
	}

	l, g := gated(2)
	held, err := l.Acquire(ctx, 0)
	if err != nil {
		t.Fatalf("acquire with the renewal held back: %v", err)
	}
	if diff := cmp.Diff([]string{"GET", "POST"}, g.methods()[:2]); diff != "" {
		t.Errorf("requests before the lock was held (-want +got):\n%s", diff)
	}
	other := newLease(env.Clientset("primary"), "other run", 3*time.Second)
	other.cfg.Name = "nekoctl-gated"
	if _, err := other.Acquire(ctx, 0); !errors.As(err, new(*HeldError)) {
		t.Fatalf("another run took the lock while the first renewal was held back: %v", err)
	}
	close(g.opens)
	if err := held.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if h, err := other.Holder(ctx); err != nil || h != nil {
		t.Fatalf("after release Holder() = %+v, %v", h, err)
	}

	// The lease exists now: a GET and an update take it.
	l, g = gated(2)
	held, err = l.Acquire(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"GET", "PUT"}, g.methods()[:2]); diff != "" {
		t.Errorf("requests before the lock was held (-want +got):\n%s", diff)
	}
	select {
	case <-held.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("the first renewal never succeeded, yet the lock was not lost")
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := held.Release(rctx); err != nil {
		t.Fatalf("releasing a lost lock: %v", err)
	}
}

// TestRacingRunsOneWins starts several runs at once on a missing lease:
// exactly one takes it, every other names it.
func TestRacingRunsOneWins(t *testing.T) {
	cs := startCluster(t)
	ctx := context.Background()
	const n = 5
	type result struct {
		held Held
		err  error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			h, err := newLease(cs, "run "+string(rune('a'+i)), 5*time.Second).Acquire(ctx, 0)
			results <- result{h, err}
		}()
	}
	won := 0
	for range n {
		r := <-results
		var he *HeldError
		switch {
		case r.err == nil:
			won++
			defer r.held.Release(ctx) //nolint:errcheck
		case !errors.As(r.err, &he):
			t.Errorf("a losing run failed for another reason: %v", r.err)
		}
	}
	if won != 1 {
		t.Errorf("%d runs took the lock, want 1", won)
	}
}

func TestIdentity(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"local", map[string]string{"USER": "alice"}, "alice@host pid 7 #"},
		{"GitHub Actions", map[string]string{"USER": "runner", "GITHUB_RUN_ID": "42", "GITHUB_REPOSITORY": "neko/api"},
			"runner@host pid 7 (GitHub Actions, job 42, neko/api) #"},
		{"GitLab CI", map[string]string{"CI_JOB_ID": "9", "CI_PROJECT_PATH": "neko/api", "CI_JOB_URL": "https://ci/9"},
			"unknown@host pid 7 (GitLab CI, job 9, neko/api, https://ci/9) #"},
		{"Buildkite", map[string]string{"USER": "bk", "BUILDKITE_BUILD_ID": "b-1"}, "bk@host pid 7 (Buildkite, job b-1) #"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Identity(func(k string) string { return tt.env[k] }, "host", 7)
			if !strings.HasPrefix(got, tt.want) || len(got) != len(tt.want)+6 {
				t.Errorf("Identity() = %q, want %q and 6 hex digits", got, tt.want)
			}
		})
	}
	a := Identity(func(string) string { return "" }, "h", 1)
	if a == Identity(func(string) string { return "" }, "h", 1) {
		t.Error("two runs of one user on one host got the same identity")
	}
}

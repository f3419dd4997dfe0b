package kubernetes

import (
	"context"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"

	"github.com/neko-defense/nekoctl/pkg/kubetest"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// requestLog records every request a provider sends: "METHOD path".
type requestLog struct {
	mu   sync.Mutex
	reqs []string
	// intercept, when set, sees each request first: it may change it, or
	// answer it instead of the server.
	intercept func(*http.Request) *http.Response
}

func (l *requestLog) wrap(cfg *rest.Config) *rest.Config {
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			var answer *http.Response
			if l.intercept != nil {
				answer = l.intercept(r)
			}
			line := r.Method + " " + r.URL.Path
			switch q := r.URL.Query(); {
			case q.Get("dryRun") != "":
				line += " (dry-run)"
			case q.Get("watch") == "true" || q.Get("watch") == "1":
				line += " (watch)"
			}
			l.mu.Lock()
			l.reqs = append(l.reqs, line)
			l.mu.Unlock()
			if answer != nil {
				return answer, nil
			}
			return rt.RoundTrip(r)
		})
	}
	return cfg
}

func (l *requestLog) sorted() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]string(nil), l.reqs...)
	sort.Strings(out)
	return out
}

func (l *requestLog) count(pred func(string) bool) int {
	n := 0
	for _, r := range l.sorted() {
		if pred(r) {
			n++
		}
	}
	return n
}

// TestRequestsPerObject is the regression guard on calls: a plan of a
// region with nothing to change sends exactly one LIST per kind the spec
// produces, the namespace's and the Gateway's GET, and nothing else
// (discovery comes from the disk cache a previous run left), its exposure
// checks included; a first up sends at most three requests per object it
// creates, its waits for rollouts and the address included.
func TestRequestsPerObject(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region = "us-east"
	st := isolatedStack("calls")
	dropNamespace(t, region, "calls")
	cache := t.TempDir()
	cfg := Config{PollInterval: 100 * time.Millisecond, RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second,
		DiscoveryCacheDir: cache}

	upLog := &requestLog{}
	p := New(st, region, upLog.wrap(env.RESTConfig(region)), cfg)
	out := upstream()
	first := planRegion(t, p, out, provider.Options{})
	applyAll(t, p, first, out)
	created := countActions(first)[plan.Create]
	isWait := func(r string) bool {
		// Rollouts and the address are watched; the address is listed
		// first, and slow rollouts watch their pods.
		return strings.HasSuffix(r, " (watch)") || strings.Contains(r, "/pods") && !strings.HasSuffix(r, " (dry-run)") ||
			r == "GET /apis/gateway.networking.k8s.io/v1/namespaces/gateway-system/gateways"
	}
	all := upLog.sorted()
	waits := upLog.count(isWait)
	t.Logf("first up of %d objects: %d requests (%.2f per object), %d of them waiting for rollouts and the address",
		created, len(all), float64(len(all))/float64(created), waits)
	if len(all) > 3*created {
		t.Errorf("first up: %d requests for %d objects created, want at most 3 per object, waits included:\n%s",
			len(all), created, strings.Join(all, "\n"))
	}
	isRolloutWatch := func(r string) bool {
		return strings.HasPrefix(r, "GET /apis/apps/") && strings.HasSuffix(r, " (watch)")
	}
	if n := upLog.count(isRolloutWatch); n != 2 {
		t.Errorf("first up: %d rollout watches for a Deployment and a StatefulSet, want one each:\n%s",
			n, strings.Join(all, "\n"))
	}
	if n := upLog.count(func(r string) bool { return strings.HasSuffix(r, "/configmaps/"+inventoryName(st)) }); n != 1 {
		t.Errorf("the inventory was written %d times, want once", n)
	}

	// A new run (new provider, discovery from the disk cache).
	log := &requestLog{}
	var dials atomic.Int32
	rc := log.wrap(env.RESTConfig(region))
	rc.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	next := New(st, region, rc, cfg)
	next.Connect(context.Background()) // as the engine does: Read continues from the namespace's GET
	again := planRegion(t, next, upstream(), provider.Options{})
	if got := actions(again, true); len(got) != 0 {
		t.Fatalf("plan after up is not empty: %v", got)
	}
	// The plan's exposure checks answer from what Read fetched.
	for _, d := range next.Check(context.Background()) {
		if d.Severity == plan.SeverityError {
			t.Errorf("check: %s", d.Message)
		}
	}
	want := []string{
		"GET /api/v1/namespaces/calls",
		"GET /api/v1/namespaces/calls/configmaps",
		"GET /api/v1/namespaces/calls/secrets",
		"GET /api/v1/namespaces/calls/serviceaccounts",
		"GET /api/v1/namespaces/calls/services",
		"GET /api/v1/nodes", // the pod network, for the API's trusted proxies
		"GET /apis/apps/v1/namespaces/calls/deployments",
		"GET /apis/apps/v1/namespaces/calls/statefulsets",
		"GET /apis/autoscaling/v2/namespaces/calls/horizontalpodautoscalers",
		"GET /apis/gateway.networking.k8s.io/v1/namespaces/calls/httproutes",
		"GET /apis/gateway.networking.k8s.io/v1/namespaces/calls/referencegrants",
		"GET /apis/gateway.networking.k8s.io/v1/namespaces/gateway-system/gateways/public-gateway",
		"GET /apis/monitoring.coreos.com/v1/namespaces/calls/prometheusrules",
		"GET /apis/monitoring.coreos.com/v1/namespaces/calls/servicemonitors",
		"GET /apis/networking.k8s.io/v1/namespaces/calls/networkpolicies",
		"GET /apis/policy/v1/namespaces/calls/poddisruptionbudgets",
	}
	if diff := cmp.Diff(want, log.sorted()); diff != "" {
		t.Errorf("requests of a plan with nothing to change (-want +got):\n%s", diff)
	}
	if n := dials.Load(); n != 1 {
		t.Errorf("the plan opened %d connections, want one (HTTP/2 carries every request)", n)
	}
	if len(log.sorted()) > len(again) {
		t.Errorf("%d requests for %d objects: more than one per object", len(log.sorted()), len(again))
	}
}

// TestRequestsOfASlowRollout: waiting for rollouts that take seconds costs
// no more requests than for quick ones: a watch per workload, and a watch
// of its pods once it has taken a while (for image pulls and crash loops),
// never a poll.
func TestRequestsOfASlowRollout(t *testing.T) {
	needCluster(t)
	t.Parallel()
	const region, ns = "eu-west", "slow-calls"
	st := isolatedStack(ns)
	dropNamespace(t, region, ns)
	slow := kubetest.Rollout{Delay: 3 * podCheckDelay}
	env.Controller().SetRollout(region, "Deployment", ns, AppName, slow)
	env.Controller().SetRollout(region, "StatefulSet", ns, RedisName, slow)
	t.Cleanup(func() {
		env.Controller().SetRollout(region, "Deployment", ns, AppName, kubetest.Healthy)
		env.Controller().SetRollout(region, "StatefulSet", ns, RedisName, kubetest.Healthy)
	})
	log := &requestLog{}
	p := New(st, region, log.wrap(env.RESTConfig(region)), Config{PollInterval: 100 * time.Millisecond,
		RolloutTimeout: 30 * time.Second, AddressTimeout: 10 * time.Second, DiscoveryCacheDir: "-"})
	out := upstream()
	first := planRegion(t, p, out, provider.Options{})
	start := time.Now()
	applyAll(t, p, first, out)
	if took := time.Since(start); took < slow.Delay {
		t.Fatalf("up took %s, the rollouts %s: the test does not wait for slow rollouts", took, slow.Delay)
	}
	all := log.sorted()
	rollout := func(r string) bool { // a watch, the pods, or a look at a workload by name
		return strings.HasSuffix(r, " (watch)") || strings.HasSuffix(r, "/pods") ||
			strings.HasPrefix(r, "GET /apis/apps/v1/namespaces/"+ns+"/deployments/") ||
			strings.HasPrefix(r, "GET /apis/apps/v1/namespaces/"+ns+"/statefulsets/")
	}
	var waits []string
	for _, r := range all {
		if strings.HasPrefix(r, "GET ") && rollout(r) {
			waits = append(waits, r)
		}
	}
	want := []string{
		"GET /api/v1/namespaces/" + ns + "/pods (watch)",
		"GET /api/v1/namespaces/" + ns + "/pods (watch)",
		"GET /apis/apps/v1/namespaces/" + ns + "/deployments (watch)",
		"GET /apis/apps/v1/namespaces/" + ns + "/statefulsets (watch)",
	}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("requests waiting for two slow rollouts (-want +got):\n%s", diff)
	}
	created := countActions(first)[plan.Create]
	t.Logf("first up of %d objects with slow rollouts: %d requests (%.2f per object)", created, len(all), float64(len(all))/float64(created))
	if len(all) > 3*created {
		t.Errorf("first up: %d requests for %d objects created, want at most 3 per object:\n%s", len(all), created, strings.Join(all, "\n"))
	}
}

package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

const testZone = "nekodefense.example"

// globalStack is the guide's three-region stack (examples/global.yaml).
func globalStack() *spec.Stack {
	st := &spec.Stack{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: "neko"},
		Spec: spec.Spec{
			Domain:     testZone,
			Cloudflare: spec.Cloudflare{AccountID: cfemu.DefaultAccount},
			Regions: []spec.Region{
				{Name: "us-east", Primary: true, GeoRegions: []string{"WNAM", "ENAM", "NSAM", "SSAM"}},
				{Name: "eu-west", GeoRegions: []string{"WEU", "EEU", "ME", "NAF", "SAF"}},
				{Name: "asia-pacific", GeoRegions: []string{"NEAS", "SEAS", "SAS", "OC"}},
			},
			Monitoring: spec.StackMonitoring{Alerting: spec.Alerting{Emails: []string{"oncall@nekodefense.example"}}},
		}}
	st.ApplyDefaults()
	return st
}

var ingress = map[string]string{"us-east": "203.0.113.10", "eu-west": "203.0.113.20", "asia-pacific": "203.0.113.30"}

// testEnv is one emulator plus the pieces of a run.
type testEnv struct {
	t   *testing.T
	emu *cfemu.Server
	st  *spec.Stack
	now time.Time

	mu     sync.Mutex
	sleeps []time.Duration
	// secret carries the origin certificate and key between runs, as the
	// regions' TLS Secret does.
	secret map[string]any
	// cacheDir, when set, is where providers remember the zone's id.
	cacheDir string
}

func newEnv(t *testing.T, plan string, opts ...cfemu.Option) *testEnv {
	t.Helper()
	e := &testEnv{t: t, emu: cfemu.New(t, opts...), st: globalStack(), now: time.Now(), secret: map[string]any{}}
	e.emu.AddZone(testZone, plan)
	return e
}

func (e *testEnv) client() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// provider builds a fresh provider, as a new run does.
func (e *testEnv) provider() *Provider {
	e.t.Helper()
	getenv := func(k string) string {
		return map[string]string{EnvAPIToken: e.emu.Token(), EnvBaseURL: e.emu.URL()}[k]
	}
	c, err := NewClient(getenv, e.client(), rate.NewLimiter(rate.Inf, 1), WithRetryPolicy(RetryPolicy{
		BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxAttempts: 10,
		Sleep: func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return nil
		},
	}))
	if err != nil {
		e.t.Fatal(err)
	}
	return New(e.st, c, Config{Now: func() time.Time { return e.now }, CacheDir: e.cacheDir, Endpoint: e.emu.URL()})
}

// outputs is the run's store: region addresses from Kubernetes plus what
// the TLS Secret holds from earlier runs.
func (e *testEnv) outputs() provider.Outputs {
	out := provider.NewOutputs()
	for r, a := range ingress {
		out.Set(fmt.Sprintf(provider.OutIngressAddress, r), a)
	}
	for k, v := range e.secret {
		out.Set(k, v)
	}
	return out
}

// plan runs Read, Desired and Diff with a fresh provider.
func (e *testEnv) plan(opts provider.Options) (*Provider, []plan.Change, provider.Outputs, error) {
	e.t.Helper()
	p := e.provider()
	ctx := context.Background()
	out := e.outputs()
	// The engine's order: every Read, then Desired, then Diff.
	live, err := p.Read(ctx, out)
	if err != nil {
		return nil, nil, nil, err
	}
	desired, err := p.Desired(ctx, out)
	if err != nil {
		return nil, nil, nil, err
	}
	changes, err := p.Diff(ctx, desired, live, opts)
	return p, changes, out, err
}

func (e *testEnv) mustPlan(opts provider.Options) (*Provider, []plan.Change, provider.Outputs) {
	e.t.Helper()
	p, ch, out, err := e.plan(opts)
	if err != nil {
		e.t.Fatalf("plan: %v", err)
	}
	return p, ch, out
}

// applyOrder: creates and updates in dependency order, deletes in reverse.
var applyOrder = map[string]int{KindMonitor: 0, KindPool: 1, KindLB: 2, KindDNSRecord: 3, KindZoneSetting: 4, KindRule: 5, KindOriginCert: 6, KindAlertPolicy: 7}

var settingOrder = map[string]int{"ssl_automatic_mode": -2, "ssl": -1}

// run plans and applies everything, as `up` (or `down` with Destroy) does.
func (e *testEnv) run(opts provider.Options) []plan.Change {
	e.t.Helper()
	p, changes, out := e.mustPlan(opts)
	if err := e.apply(p, changes, out); err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return changes
}

func (e *testEnv) apply(p *Provider, changes []plan.Change, out provider.Outputs) error {
	ctx := context.Background()
	var upserts, deletes []plan.Change
	for _, c := range changes {
		switch c.Action {
		case plan.Delete:
			deletes = append(deletes, c)
		case plan.NoOp:
		default:
			upserts = append(upserts, c)
		}
	}
	sort.SliceStable(upserts, func(i, j int) bool {
		a, b := upserts[i].Address, upserts[j].Address
		if a.Kind == KindZoneSetting && b.Kind == KindZoneSetting {
			return settingOrder[a.Name] < settingOrder[b.Name] // as the engine's dependencies order them
		}
		return applyOrder[a.Kind] < applyOrder[b.Kind]
	})
	sort.SliceStable(deletes, func(i, j int) bool {
		return applyOrder[deletes[i].Address.Kind] > applyOrder[deletes[j].Address.Kind]
	})
	for _, c := range upserts {
		if err := p.Apply(ctx, c, out); err != nil {
			return err
		}
	}
	for _, c := range deletes {
		if err := p.Delete(ctx, c); err != nil {
			return err
		}
	}
	for _, k := range []string{provider.OutOriginCert, provider.OutOriginKey} {
		if v, ok := out.Get(k); ok {
			e.secret[k] = v
		}
	}
	return nil
}

// pending lists the changes that are not no-ops, as "action address".
func pending(changes []plan.Change) []string {
	var out []string
	for _, c := range changes {
		if c.Action != plan.NoOp {
			out = append(out, string(c.Action)+" "+c.Address.String())
		}
	}
	sort.Strings(out)
	return out
}

func count(changes []plan.Change, a plan.Action) int {
	n := 0
	for _, c := range changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

func sortStrings(s []string) { sort.Strings(s) }

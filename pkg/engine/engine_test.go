package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// memProvider keeps its "remote" state in memory; it exercises the engine's
// ordering, failure and output handling, which no remote API is needed for.
type memProvider struct {
	name, region string
	desired      []provider.Resource
	live         map[string]plan.Document
	readErr      error
	failOn       map[string]bool
	log          *opLog
	delay        time.Duration
	inFlight     *atomic.Int32
	maxInFlight  *atomic.Int32
	// all counts the applies in flight over several providers.
	all *peak
}

// peak counts calls in flight and the most seen at once.
type peak struct{ now, most atomic.Int32 }

func (p *peak) enter() {
	n := p.now.Add(1)
	for {
		cur := p.most.Load()
		if n <= cur || p.most.CompareAndSwap(cur, n) {
			return
		}
	}
}

type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ops = append(l.ops, s)
}

func (l *opLog) index(s string) int {
	for i, o := range l.ops {
		if o == s {
			return i
		}
	}
	return -1
}

func (m *memProvider) Name() string   { return m.name }
func (m *memProvider) Region() string { return m.region }
func (m *memProvider) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	return m.desired, nil
}
func (m *memProvider) Read(context.Context, provider.Outputs) ([]provider.Resource, error) {
	if m.readErr != nil {
		return nil, m.readErr
	}
	var out []provider.Resource
	for name, doc := range m.live {
		out = append(out, provider.Resource{Address: m.addr(name), ID: name, Doc: doc})
	}
	return out, nil
}
func (m *memProvider) Diff(_ context.Context, d, l []provider.Resource, o provider.Options) ([]plan.Change, error) {
	return provider.DiffResources(d, l, o), nil
}
func (m *memProvider) Apply(_ context.Context, c plan.Change, out provider.Outputs) error {
	return m.do("apply", c, out)
}
func (m *memProvider) Delete(_ context.Context, c plan.Change) error { return m.do("delete", c, nil) }

func (m *memProvider) do(op string, c plan.Change, out provider.Outputs) error {
	if m.inFlight != nil {
		n := m.inFlight.Add(1)
		defer m.inFlight.Add(-1)
		for {
			cur := m.maxInFlight.Load()
			if n <= cur || m.maxInFlight.CompareAndSwap(cur, n) {
				break
			}
		}
	}
	if m.all != nil {
		m.all.enter()
		defer m.all.now.Add(-1)
	}
	time.Sleep(m.delay)
	if m.failOn[c.Address.Name] {
		return errors.New("remote said no")
	}
	for _, k := range c.Produces {
		out.Set(k, "value-of-"+k)
	}
	m.log.add(op + " " + c.Address.Name)
	return nil
}

func (m *memProvider) addr(name string) plan.Address {
	return plan.Address{Provider: m.name, Scope: "test", Region: m.region, Kind: "thing", Name: name}
}

func (m *memProvider) res(name string, doc plan.Document, deps ...string) provider.Resource {
	r := provider.Resource{Address: m.addr(name), Doc: doc}
	for _, d := range deps {
		r.DependsOn = append(r.DependsOn, m.addr(d))
	}
	return r
}

func newMem(name, region string, log *opLog) *memProvider {
	return &memProvider{name: name, region: region, live: map[string]plan.Document{}, failOn: map[string]bool{}, log: log}
}

func TestApplyOrdersByDependenciesAndOutputs(t *testing.T) {
	log := &opLog{}
	atlas := newMem("atlas", "", log)
	kube := newMem("kubernetes", "us-east", log)
	cf := newMem("cloudflare", "", log)
	atlas.desired = []provider.Resource{atlas.res("project", plan.Document{"n": 1}), atlas.res("cluster", plan.Document{"n": 1}, "project")}
	atlas.desired[1].Produces = []string{"atlas/mongodb_uri"}
	kube.desired = []provider.Resource{kube.res("secret", plan.Document{"uri": plan.Unknown{From: "atlas/mongodb_uri"}}),
		kube.res("route", plan.Document{"n": 1})}
	kube.desired[1].Produces = []string{"kubernetes/us-east/ingress_address"}
	cf.desired = []provider.Resource{cf.res("pool", plan.Document{"origin": plan.Unknown{From: "kubernetes/us-east/ingress_address"}})}

	e := &Engine{Providers: []provider.Provider{cf, atlas, kube}, Parallelism: 4}
	planned := e.Plan(context.Background(), "neko", provider.Options{})
	if got := planned.Plan.Summary(); got.Add != 5 {
		t.Fatalf("summary = %+v, want 5 creates", got)
	}
	if _, err := e.Apply(context.Background(), planned); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{{"project", "cluster"}, {"cluster", "secret"}, {"route", "pool"}} {
		if log.index("apply "+pair[0]) > log.index("apply "+pair[1]) {
			t.Errorf("%s applied after %s: %v", pair[0], pair[1], log.ops)
		}
	}
}

func TestApplySkipsDependentsOfAFailureAndReportsEveryFailure(t *testing.T) {
	log := &opLog{}
	p := newMem("atlas", "", log)
	p.desired = []provider.Resource{
		p.res("project", plan.Document{}), p.res("cluster", plan.Document{}, "project"),
		p.res("user", plan.Document{}, "cluster"), p.res("other", plan.Document{}), p.res("third", plan.Document{}),
	}
	p.failOn["project"], p.failOn["third"] = true, true
	var events []event.Event
	var mu sync.Mutex
	e := &Engine{Providers: []provider.Provider{p}, Parallelism: 2, Events: func(ev event.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, ev)
	}}
	res, err := e.Apply(context.Background(), e.Plan(context.Background(), "neko", provider.Options{}))
	if !errors.Is(err, ErrPartial) {
		t.Fatalf("want ErrPartial, got %v", err)
	}
	for _, want := range []string{`thing["project"]: create failed`, `thing["third"]: create failed`, "2 change(s) failed"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), `"user"`) {
		t.Errorf("skipped dependents must not be reported as failures:\n%v", err)
	}
	status := map[string]event.Type{}
	for _, o := range res.Outcomes {
		status[o.Change.Address.Name] = o.Status
	}
	want := map[string]event.Type{"project": event.Failed, "cluster": event.Skipped, "user": event.Skipped, "other": event.Succeeded, "third": event.Failed}
	if diff := cmp.Diff(want, status); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	skips := 0
	for _, ev := range events {
		if ev.Type == event.Skipped {
			skips++
		}
	}
	if skips != 2 {
		t.Errorf("want one skip event per skipped change (2), got %d", skips)
	}
}

func TestApplyRespectsParallelism(t *testing.T) {
	log := &opLog{}
	p := newMem("cloudflare", "", log)
	p.delay = 20 * time.Millisecond
	p.inFlight, p.maxInFlight = &atomic.Int32{}, &atomic.Int32{}
	for i := range 10 {
		p.desired = append(p.desired, p.res(fmt.Sprintf("r%d", i), plan.Document{}))
	}
	e := &Engine{Providers: []provider.Provider{p}, Parallelism: 3}
	if _, err := e.Apply(context.Background(), e.Plan(context.Background(), "neko", provider.Options{})); err != nil {
		t.Fatal(err)
	}
	if got := p.maxInFlight.Load(); got > 3 || got < 2 {
		t.Errorf("max concurrent applies = %d, want 2..3", got)
	}
	if len(log.ops) != 10 {
		t.Errorf("applied %d of 10", len(log.ops))
	}
}

// TestApplyParallelismPerRegion: the cap is per provider and region, so
// regions apply at the same time, each within the cap.
func TestApplyParallelismPerRegion(t *testing.T) {
	log := &opLog{}
	all := &peak{}
	var providers []provider.Provider
	var regions []*memProvider
	for _, r := range []string{"us-east", "eu-west", "ap-south"} {
		p := newMem("kubernetes", r, log)
		p.delay = 30 * time.Millisecond
		p.inFlight, p.maxInFlight, p.all = &atomic.Int32{}, &atomic.Int32{}, all
		for i := range 4 {
			p.desired = append(p.desired, p.res(fmt.Sprintf("o%d", i), plan.Document{}))
		}
		providers = append(providers, p)
		regions = append(regions, p)
	}
	e := &Engine{Providers: providers, Parallelism: 2}
	if _, err := e.Apply(context.Background(), e.Plan(context.Background(), "neko", provider.Options{})); err != nil {
		t.Fatal(err)
	}
	for _, p := range regions {
		if got := p.maxInFlight.Load(); got > 2 {
			t.Errorf("region %s: %d applies at once, want at most 2", p.region, got)
		}
	}
	if got := all.most.Load(); got <= 2 {
		t.Errorf("at most %d applies at once over three regions: the regions waited for each other's slots", got)
	}
	if len(log.ops) != 12 {
		t.Errorf("applied %d of 12", len(log.ops))
	}
}

func TestDestroyDeletesDependentsFirst(t *testing.T) {
	log := &opLog{}
	p := newMem("atlas", "", log)
	p.live = map[string]plan.Document{"project": {}, "cluster": {}}
	// Live resources carry no dependencies; the desired side declares them,
	// and a destroy plan still computes it.
	p.desired = []provider.Resource{p.res("project", plan.Document{}), p.res("cluster", plan.Document{}, "project")}
	e := &Engine{Providers: []provider.Provider{p}, Parallelism: 4}
	planned := e.Plan(context.Background(), "neko", provider.Options{Destroy: true})
	if got := planned.Plan.Summary(); got.Destroy != 2 {
		t.Fatalf("summary = %+v", got)
	}
	if _, err := e.Apply(context.Background(), planned); err != nil {
		t.Fatal(err)
	}
	if log.index("delete cluster") > log.index("delete project") {
		t.Errorf("project deleted before its cluster: %v", log.ops)
	}
}

func TestPlanReportsAFailedRegionAndPlansTheOthers(t *testing.T) {
	log := &opLog{}
	us := newMem("kubernetes", "us-east", log)
	eu := newMem("kubernetes", "eu-west", log)
	eu.readErr = errors.New("dial tcp 127.0.0.1:1: connection refused")
	us.desired = []provider.Resource{us.res("deploy", plan.Document{})}
	eu.desired = []provider.Resource{eu.res("deploy", plan.Document{})}
	e := &Engine{Providers: []provider.Provider{us, eu}, Parallelism: 2}
	p := e.Plan(context.Background(), "neko", provider.Options{}).Plan
	if len(p.Changes) != 1 || p.Changes[0].Address.Region != "us-east" {
		t.Fatalf("changes = %+v", p.Changes)
	}
	if !p.HasErrors() || !strings.Contains(p.Diagnostics[0].Message, "kubernetes (region eu-west): reading live state: dial tcp") {
		t.Errorf("diagnostics = %+v", p.Diagnostics)
	}
}

func TestCycleIsRefused(t *testing.T) {
	p := newMem("atlas", "", &opLog{})
	p.desired = []provider.Resource{p.res("a", plan.Document{}, "b"), p.res("b", plan.Document{}, "a")}
	e := &Engine{Providers: []provider.Provider{p}}
	_, err := e.Apply(context.Background(), e.Plan(context.Background(), "neko", provider.Options{}))
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("want a cycle error, got %v", err)
	}
}

func TestSecondPlanAfterApplyIsEmpty(t *testing.T) {
	p := newMem("atlas", "", &opLog{})
	p.desired = []provider.Resource{p.res("a", plan.Document{"tier": "M10"})}
	p.live = map[string]plan.Document{"a": {"tier": "M10"}}
	e := &Engine{Providers: []provider.Provider{p}}
	if pl := e.Plan(context.Background(), "neko", provider.Options{}).Plan; pl.HasChanges() {
		t.Fatalf("unexpected changes: %+v", pl.Changes)
	}
	p.live["a"] = plan.Document{"tier": "M20"}
	pl := e.Plan(context.Background(), "neko", provider.Options{}).Plan
	if s := pl.Summary(); s.Change != 1 || pl.Changes[0].Fields[0].Path != "tier" {
		t.Fatalf("want one update of tier, got %+v", pl.Changes)
	}
}

// planProbe is a provider whose Desired runs a hook, to observe when the
// engine plans it.
type planProbe struct {
	memProvider
	inputs  []string
	desired func(provider.Outputs) error
}

func (p *planProbe) PlanInputs() []string { return p.inputs }
func (p *planProbe) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	return nil, p.desired(in)
}

// TestPlanDesiredConcurrently: providers build and diff their desired state
// at the same time; only one that consumes another's planning output (the
// Atlas connection string) waits for that provider.
func TestPlanDesiredConcurrently(t *testing.T) {
	cloudflareStarted := make(chan struct{})
	atlas := &planProbe{memProvider: memProvider{name: "atlas"}, desired: func(in provider.Outputs) error {
		select { // proves Cloudflare plans while Atlas is still planning
		case <-cloudflareStarted:
		case <-time.After(5 * time.Second):
			return errors.New("cloudflare did not plan at the same time")
		}
		in.Set("atlas/uri", "mongodb+srv://x")
		return nil
	}}
	cloudflare := &planProbe{memProvider: memProvider{name: "cloudflare"}, desired: func(provider.Outputs) error {
		close(cloudflareStarted)
		return nil
	}}
	var regions []provider.Provider
	for _, r := range []string{"us-east", "eu-west"} {
		regions = append(regions, &planProbe{memProvider: memProvider{name: "kubernetes", region: r}, inputs: []string{"atlas/uri"},
			desired: func(in provider.Outputs) error {
				if v, ok := in.Get("atlas/uri"); !ok || v != "mongodb+srv://x" {
					return fmt.Errorf("planned before the Atlas output: %v", v)
				}
				return nil
			}})
	}
	e := &Engine{Providers: append([]provider.Provider{atlas, cloudflare}, regions...), Parallelism: 1}
	got := e.Plan(context.Background(), "s", provider.Options{})
	if len(got.Plan.Diagnostics) != 0 {
		t.Fatalf("diagnostics: %+v", got.Plan.Diagnostics)
	}
}

// connectingProvider is a memProvider whose reads start with a connection.
type connectingProvider struct {
	*memProvider
}

func (c connectingProvider) Connect(context.Context) { c.log.add("connect " + c.region) }

func (c connectingProvider) Read(ctx context.Context, out provider.Outputs) ([]provider.Resource, error) {
	c.log.add("read " + c.region)
	return c.memProvider.Read(ctx, out)
}

// TestPlanConnectsEveryRegionBeforeAnyRead: every connecting provider has
// its connection under way before any provider starts reading (and so
// before any reading and rendering takes the cores), and an offline plan
// connects nothing.
func TestPlanConnectsEveryRegionBeforeAnyRead(t *testing.T) {
	log := &opLog{}
	var providers []provider.Provider
	for _, r := range []string{"r1", "r2", "r3"} {
		providers = append(providers, connectingProvider{newMem("kubernetes", r, log)})
	}
	e := &Engine{Providers: append(providers, newMem("atlas", "", log))}
	if p := e.Plan(context.Background(), "s", provider.Options{}).Plan; p.HasErrors() {
		t.Fatalf("plan failed: %+v", p.Diagnostics)
	}
	lastConnect, firstRead := -1, len(log.ops)
	for i, op := range log.ops {
		switch {
		case strings.HasPrefix(op, "connect "):
			lastConnect = i
		case strings.HasPrefix(op, "read "):
			firstRead = min(firstRead, i)
		}
	}
	if connects := strings.Count(strings.Join(log.ops, "\n"), "connect "); connects != 3 || lastConnect > firstRead {
		t.Errorf("want the three regions connected before the first read: %v", log.ops)
	}
	log.ops = nil
	e.Plan(context.Background(), "s", provider.Options{Offline: true})
	if strings.Contains(strings.Join(log.ops, "\n"), "connect ") {
		t.Errorf("an offline plan connected: %v", log.ops)
	}
}

package atlas_test

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	emu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

const (
	testPassword = "Pw-from-test-0123456789abcdef"
	orgID        = emu.DefaultOrgID
)

// guideStack is the guide's three regions: one electable node each.
func guideStack() *spec.Stack {
	st := &spec.Stack{APIVersion: spec.APIVersion, Kind: spec.Kind, Metadata: spec.Metadata{Name: "neko"},
		Spec: spec.Spec{Domain: "nekodefense.example",
			Atlas: spec.Atlas{OrgID: orgID, Project: "neko-defense", Cluster: spec.Cluster{Name: "neko-prod"}},
			Regions: []spec.Region{
				{Name: "us-east", Primary: true, Cloud: spec.Cloud{Provider: "aws", Region: "us-east-1"},
					Atlas: spec.RegionAtlas{Region: "US_EAST_1"}, EgressCIDRs: []string{"203.0.113.0/28"}},
				{Name: "eu-west", Cloud: spec.Cloud{Provider: "aws", Region: "eu-west-1"},
					Atlas: spec.RegionAtlas{Region: "EU_WEST_1"}, EgressCIDRs: []string{"198.51.100.16/28"}},
				{Name: "asia-pacific", Cloud: spec.Cloud{Provider: "aws", Region: "ap-northeast-1"},
					Atlas: spec.RegionAtlas{Region: "AP_NORTHEAST_1"}, EgressCIDRs: []string{"192.0.2.10"}},
			}}}
	st.ApplyDefaults()
	return st
}

type env struct {
	t      *testing.T
	srv    *emu.Server
	client *admin.APIClient
	events *eventLog
}

type eventLog struct {
	mu  sync.Mutex
	evs []event.Event
}

func (l *eventLog) sink(e event.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, e)
}

func (l *eventLog) all() []event.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]event.Event(nil), l.evs...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := emu.New(emu.Options{CreateDuration: 30 * time.Millisecond, UpdateDuration: 20 * time.Millisecond,
		DeleteDuration: 20 * time.Millisecond})
	t.Cleanup(srv.Close)
	rt := &atlas.RetryTransport{Policy: atlas.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		Base: digest.NewTransportWithHTTPRoundTripper(emu.DefaultPublicKey, emu.DefaultPrivateKey, http.DefaultTransport)}
	c, err := admin.NewClient(admin.UseBaseURL(srv.URL()), admin.UseHTTPClient(&http.Client{Transport: rt}))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, client: c, events: &eventLog{}}
}

func (e *env) provider(st *spec.Stack, rotate bool) *atlas.Provider {
	return atlas.New(st, e.client, atlas.Config{Events: e.events.sink, PollInterval: 5 * time.Millisecond,
		Timeout: 10 * time.Second, RotateDBPassword: rotate, Password: func() (string, error) { return testPassword, nil },
		Sleep: shortSleep})
}

// shortSleep waits at most 5ms: backoffs keep their order, not their length.
func shortSleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(min(d, 5*time.Millisecond)):
		return nil
	}
}

// planWith reads, builds desired state and diffs, as the engine does.
func planWith(t *testing.T, p *atlas.Provider, out provider.Outputs, opts provider.Options) []plan.Change {
	t.Helper()
	ctx := context.Background()
	live, err := p.Read(ctx, out)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	desired, err := p.Desired(ctx, out)
	if err != nil {
		t.Fatalf("desired: %v", err)
	}
	changes, err := p.Diff(ctx, desired, live, opts)
	if err != nil {
		t.Fatalf("diff: %v", err)
	}
	return changes
}

var kindOrder = map[string]int{atlas.KindProject: 0, atlas.KindCluster: 1, atlas.KindBackupSchedule: 2,
	atlas.KindDatabaseUser: 3, atlas.KindAccessEntry: 4, atlas.KindAlertConfig: 5}

// apply runs creates, updates and adoptions in dependency order, then
// deletes and keeps in reverse, as the engine does.
func apply(t *testing.T, p *atlas.Provider, changes []plan.Change, out provider.Outputs) error {
	t.Helper()
	ctx := context.Background()
	cs := append([]plan.Change(nil), changes...)
	sort.SliceStable(cs, func(i, j int) bool { return kindOrder[cs[i].Address.Kind] < kindOrder[cs[j].Address.Kind] })
	for _, c := range cs {
		if c.Action == plan.Create || c.Action == plan.Update || c.Action == plan.Replace || c.Action == plan.Adopt {
			if err := p.Apply(ctx, c, out); err != nil {
				return err
			}
		}
	}
	for i := len(cs) - 1; i >= 0; i-- {
		switch cs[i].Action {
		case plan.Delete:
			if err := p.Delete(ctx, cs[i]); err != nil {
				return err
			}
		case plan.Keep:
			if err := p.Apply(ctx, cs[i], out); err != nil {
				return err
			}
		}
	}
	return nil
}

func actions(changes []plan.Change) map[string]int {
	m := map[string]int{}
	for _, c := range changes {
		m[string(c.Action)]++
	}
	return m
}

func find(changes []plan.Change, kind string) *plan.Change {
	for i := range changes {
		if changes[i].Address.Kind == kind {
			return &changes[i]
		}
	}
	return nil
}

// up applies the stack from empty and returns the outputs, with the
// password as the Kubernetes provider's Read would publish it next time.
func (e *env) up(st *spec.Stack) provider.Outputs {
	e.t.Helper()
	out := provider.NewOutputs()
	p := e.provider(st, false)
	if err := apply(e.t, p, planWith(e.t, p, out, provider.Options{}), out); err != nil {
		e.t.Fatalf("up: %v", err)
	}
	return secretsOnly(out)
}

// secretsOnly is what the next run starts from: the Kubernetes provider
// reads the password back from the regions' Secrets.
func secretsOnly(out provider.Outputs) provider.Outputs {
	next := provider.NewOutputs()
	if v, ok := out.Get(provider.OutDBPassword); ok {
		next.Set(provider.OutDBPassword, v)
	}
	return next
}

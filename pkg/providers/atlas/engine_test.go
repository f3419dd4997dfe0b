package atlas_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

// secretStore stands in for the Kubernetes provider's side of the password
// contract: its Read publishes the password held in the Secret, its Secret
// waits for the connection string, and a rotation updates it.
type secretStore struct {
	mu            sync.Mutex
	uri, password string
}

func (s *secretStore) Name() string   { return "kubernetes" }
func (s *secretStore) Region() string { return "us-east" }

var secretAddr = plan.Address{Provider: "kubernetes", Scope: "region/us-east", Region: "us-east", Kind: "secret", Name: "neko-api-mongodb"}

func (s *secretStore) Read(_ context.Context, out provider.Outputs) ([]provider.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.uri == "" {
		return nil, nil
	}
	out.Set(provider.OutDBPassword, plan.NewSensitive(s.password))
	return []provider.Resource{{Address: secretAddr, Doc: plan.Document{"uri": plan.NewSensitive(s.uri)}}}, nil
}

func (s *secretStore) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	return []provider.Resource{{Address: secretAddr, Doc: plan.Document{"uri": in.Value(provider.OutMongoURI)}}}, nil
}

func (s *secretStore) Diff(_ context.Context, desired, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	changes := provider.DiffResources(desired, live, opts)
	for i := range changes {
		if opts.RotateDBPassword && changes[i].Action == plan.NoOp {
			changes[i].Action = plan.Update
		}
	}
	return changes, nil
}

func (s *secretStore) Apply(_ context.Context, _ plan.Change, in provider.Outputs) error {
	uri, ok1 := in.Get(provider.OutMongoURI)
	pw, ok2 := in.Get(provider.OutDBPassword)
	if !ok1 || !ok2 {
		return fmt.Errorf("connection string or password not published")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.uri, s.password = uri.(plan.Sensitive).Reveal(), pw.(plan.Sensitive).Reveal()
	return nil
}

func (s *secretStore) Delete(context.Context, plan.Change) error { return nil }

// TestEngineUpRotateAndReplan runs the provider under the engine with the
// Secret side of the contract: up, an empty plan, a rotation that reaches
// the Secret, and an empty plan again.
func TestEngineUpRotateAndReplan(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	secrets := &secretStore{}
	n := 0
	build := func(rotate bool) *engine.Engine {
		p := atlas.New(st, e.client, atlas.Config{Events: e.events.sink, PollInterval: 5 * time.Millisecond,
			RotateDBPassword: rotate, Password: func() (string, error) { n++; return fmt.Sprintf("generated-password-%02d", n), nil }})
		return &engine.Engine{Providers: []provider.Provider{p, secrets}, Events: e.events.sink, Now: time.Now, Parallelism: 4}
	}
	ctx := context.Background()
	gid := ""
	for i, step := range []struct {
		rotate  bool
		changes bool
	}{{false, true}, {false, false}, {true, true}, {false, false}} {
		opts := provider.Options{RotateDBPassword: step.rotate}
		eng := build(step.rotate)
		planned := eng.Plan(ctx, "neko", opts)
		if planned.Plan.HasErrors() {
			t.Fatalf("step %d: %+v", i, planned.Plan.Diagnostics)
		}
		if planned.Plan.HasChanges() != step.changes {
			t.Fatalf("step %d: changes %v, want %v: %+v", i, planned.Plan.HasChanges(), step.changes, planned.Plan.Summary())
		}
		if _, err := eng.Apply(ctx, planned); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		gid, _ = e.srv.ProjectID("neko-defense")
		pw, _ := e.srv.DatabaseUserPassword(gid, "neko-api")
		if secrets.password != pw || !strings.Contains(secrets.uri, ":"+pw+"@") {
			t.Fatalf("step %d: the Secret holds another password than Atlas", i)
		}
	}
	if secrets.password != "generated-password-02" {
		t.Fatalf("rotation did not reach the Secret: %s", secrets.password)
	}

	// down --force: the engine deletes the cluster (after turning its
	// protection off) before the project that holds it, which is kept and
	// released because Atlas keeps the cluster's snapshots in it.
	eng := build(false)
	planned := eng.Plan(ctx, "neko", provider.Options{Destroy: true, Force: true})
	if _, err := eng.Apply(ctx, planned); err != nil {
		t.Fatal(err)
	}
	if names := e.srv.ClusterNames(gid); len(names) != 0 {
		t.Fatalf("clusters left: %v", names)
	}
	if _, retained := e.srv.Snapshots(gid, "neko-prod"); retained == 0 {
		t.Fatal("the snapshots were not retained")
	}
	if tags := e.projectTags("neko-defense"); tags[atlas.TagReleased] != "neko" {
		t.Fatalf("project tags after down --force: %v", tags)
	}
}

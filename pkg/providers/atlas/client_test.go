package atlas_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	emu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

func TestNewClientCredentials(t *testing.T) {
	srv := emu.New(emu.Options{})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	for name, vars := range map[string]map[string]string{
		"service account":  {atlas.EnvClientID: emu.DefaultClientID, atlas.EnvClientSecret: emu.DefaultClientSecret},
		"api key":          {atlas.EnvPublicAPIKey: emu.DefaultPublicKey, atlas.EnvPrivateAPIKey: emu.DefaultPrivateKey},
		"legacy key names": {atlas.EnvPublicKey: emu.DefaultPublicKey, atlas.EnvPrivateKey: emu.DefaultPrivateKey},
	} {
		t.Run(name, func(t *testing.T) {
			before := http.DefaultClient.Transport
			c, err := atlas.NewClient(ctx, func(k string) string { return vars[k] }, srv.URL(), &http.Client{Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if http.DefaultClient.Transport != before {
				t.Fatal("http.DefaultClient was modified")
			}
			_, _, err = c.ProjectsApi.GetGroupByName(ctx, "absent").Execute()
			if err == nil || !strings.Contains(err.Error(), "GROUP_NAME_NOT_FOUND") {
				t.Fatalf("authenticated call: %v", err)
			}
		})
	}
	_, err := atlas.NewClient(ctx, func(string) string { return "" }, srv.URL(), nil)
	if !errors.Is(err, atlas.ErrNoCredentials) {
		t.Fatalf("no credentials: %v", err)
	}
	bad := map[string]string{atlas.EnvPublicAPIKey: "pub", atlas.EnvPrivateAPIKey: "super-secret-key"}
	c, _ := atlas.NewClient(ctx, func(k string) string { return bad[k] }, srv.URL(), nil)
	if _, _, err := c.ProjectsApi.GetGroupByName(ctx, "x").Execute(); err == nil || strings.Contains(err.Error(), "super-secret-key") {
		t.Fatalf("refused key: %v", err)
	}
}

func TestBuild(t *testing.T) {
	ctx := context.Background()
	st := guideStack()
	p, err := atlas.Build(ctx, st, provider.Options{Offline: true}, func(string) string { return "" }, nil, atlas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := p.Desired(ctx, provider.NewOutputs()); err != nil || len(res) != 10 {
		t.Fatalf("offline: %d %v", len(res), err)
	}
	if _, err := atlas.Build(ctx, st, provider.Options{}, func(string) string { return "" }, nil, atlas.Config{}); !errors.Is(err, atlas.ErrNoCredentials) {
		t.Fatalf("online without credentials: %v", err)
	}
	srv := emu.New(emu.Options{})
	t.Cleanup(srv.Close)
	st.Spec.Atlas.BaseURL = srv.URL()
	env := map[string]string{atlas.EnvClientID: emu.DefaultClientID, atlas.EnvClientSecret: emu.DefaultClientSecret}
	p, err = atlas.Build(ctx, st, provider.Options{RotateDBPassword: true}, func(k string) string { return env[k] }, nil, atlas.Config{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := p.Read(ctx, provider.NewOutputs())
	if err != nil || len(live) != 0 {
		t.Fatalf("read of an empty organization: %v %v", live, err)
	}
	if _, err := p.Diff(ctx, nil, nil, provider.Options{RotateDBPassword: true}); err != nil {
		t.Fatalf("rotation choice not carried into the provider: %v", err)
	}
}

func TestPausedClusterIsNotPatched(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	e.srv.SetPaused(gid, "neko-prod", true)
	st.Spec.Atlas.Cluster.Tier = "M30"
	e.srv.ResetCounts()
	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	if c := find(changes, atlas.KindCluster); !strings.Contains(strings.Join(c.Notes, ";"), "paused") {
		t.Fatalf("plan does not say the cluster is paused: %v", c.Notes)
	}
	err := apply(t, p, changes, out)
	if err == nil || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("apply: %v", err)
	}
	if e.srv.Requests()["PATCH /groups/{groupId}/clusters/{clusterName}"] != 0 {
		t.Fatal("a paused cluster was patched")
	}
}

package cloudflare

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	cfemu "github.com/neko-defense/nekoctl/pkg/emulator/cloudflare"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

func TestStatusReportsPoolHealth(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	for _, pl := range e.emu.Pools() {
		if strings.HasSuffix(pl.Name, "_eu-west") {
			e.emu.SetPoolHealthy(pl.ID, false)
		}
	}
	hs, err := e.provider().Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, h := range hs {
		got[h.Address.Kind+"/"+h.Address.Name] = h.Healthy
	}
	want := map[string]bool{"load_balancer/api.nekodefense.example": true, "pool/us-east": true, "pool/eu-west": false, "pool/asia-pacific": true}
	for k, v := range want {
		if h, ok := got[k]; !ok || h != v {
			t.Errorf("%s healthy = %v (present %v), want %v", k, h, ok, v)
		}
	}
	lb := hs[0].LoadBalancer
	if lb == nil || !lb.Enabled || lb.FallbackPool != "us-east" ||
		strings.Join(lb.DefaultPools, ",") != "us-east,eu-west,asia-pacific" {
		t.Errorf("load balancer facts = %+v", lb)
	}
	for _, h := range hs[1:] {
		if h.Pool == nil || h.Address.Region != h.Address.Name || h.Pool.Locations == 0 {
			t.Errorf("pool line %s has no facts or region: %+v", h.Address, h)
		}
		if h.Address.Name == "eu-west" && (len(h.Pool.Failing) == 0 || h.Pool.HealthyLocations != 0 || h.State != "unhealthy") {
			t.Errorf("unhealthy pool = %+v %+v", h, h.Pool)
		}
	}
}

// TestStatusReportsDisabledAndMissingPools: a disabled pool takes no
// traffic and is unhealthy whatever its origins answer; a spec region
// without a pool shows as missing.
func TestStatusReportsDisabledAndMissingPools(t *testing.T) {
	e := newEnv(t, cfemu.Pro)
	e.run(provider.Options{})
	p := e.provider()
	if err := p.SetPoolEnabled(context.Background(), "asia-pacific", false); err != nil {
		t.Fatal(err)
	}
	e.st.Spec.Regions = append(e.st.Spec.Regions, e.st.Spec.Regions[0])
	e.st.Spec.Regions[len(e.st.Spec.Regions)-1].Name = "sa-east"
	hs, err := p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, h := range hs {
		if h.Healthy == (h.State == "disabled" || h.State == "missing") {
			t.Errorf("%s: state %s, healthy %v", h.Address, h.State, h.Healthy)
		}
		states[h.Address.Name] = h.State
	}
	if states["asia-pacific"] != "disabled" || states["sa-east"] != "missing" || states["us-east"] != "healthy" {
		t.Errorf("pool states = %v", states)
	}
}

func TestRetriesAreReportedAsProgress(t *testing.T) {
	emu := cfemu.New(t)
	emu.AddZone(testZone, cfemu.Pro)
	emu.RateLimitNext(1)
	var mu sync.Mutex
	var msgs []string
	c, _ := NewClient(func(k string) string {
		return map[string]string{EnvAPIToken: emu.Token(), EnvBaseURL: emu.URL()}[k]
	}, nil, rate.NewLimiter(rate.Inf, 1), WithRetryPolicy(RetryPolicy{Sleep: func(context.Context, time.Duration) error { return nil }}))
	p := New(globalStack(), c, Config{Events: func(ev event.Event) {
		mu.Lock()
		defer mu.Unlock()
		if ev.Type == event.Progress {
			msgs = append(msgs, ev.Message)
		}
	}})
	if _, _, err := p.lookupZone(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "rate limited (429); retrying in 1s (attempt 2 of 8)") {
		t.Errorf("progress = %q", msgs)
	}
}

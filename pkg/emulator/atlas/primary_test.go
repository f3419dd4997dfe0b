package atlas_test

import (
	"context"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/emulator/atlas"
)

// The primary moves as an election does: not when new priorities are
// accepted but when the reconfiguration completes; a failover test hands
// it to another electable region until it ends.
func TestPrimaryMovesWhenTheChangeCompletes(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s := atlas.New(atlas.Options{Now: func() time.Time { return time.Unix(0, clock.Load()) },
		CreateDuration: time.Minute, UpdateDuration: time.Minute})
	t.Cleanup(s.Close)
	gid := s.SeedProject("p", "")
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	ctx := context.Background()
	if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, threeRegions)).Execute(); err != nil {
		t.Fatal(err)
	}
	if p := s.PrimaryRegion(gid, "neko"); p != "" {
		t.Fatalf("primary while creating: %q", p)
	}
	clock.Add(int64(time.Minute))
	if p := s.PrimaryRegion(gid, "neko"); p != "AWS/US_EAST_1" {
		t.Fatalf("primary after create: %q", p)
	}

	cur, _, err := c.ClustersApi.GetCluster(ctx, gid, "neko").Execute()
	if err != nil {
		t.Fatal(err)
	}
	rcs := cur.GetReplicationSpecs()[0].GetRegionConfigs()
	prio := map[string]int{"EU_WEST_1": 7, "US_EAST_1": 6, "AP_NORTHEAST_1": 5}
	for i := range rcs {
		rcs[i].Priority = admin.PtrInt(prio[rcs[i].GetRegionName()])
	}
	// Atlas wants the list in descending priority.
	sort.Slice(rcs, func(i, j int) bool { return rcs[i].GetPriority() > rcs[j].GetPriority() })
	patch := &admin.ClusterDescription20240805{ReplicationSpecs: &[]admin.ReplicationSpec20240805{{RegionConfigs: &rcs}}}
	if _, _, err := c.ClustersApi.UpdateCluster(ctx, gid, "neko", patch).Execute(); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.ClusterState(gid, "neko"); st != atlas.StateUpdating {
		t.Fatalf("after new priorities: %s", st)
	}
	if p := s.PrimaryRegion(gid, "neko"); p != "AWS/US_EAST_1" {
		t.Fatalf("primary moved before the change completed: %q", p)
	}
	clock.Add(int64(time.Minute))
	if p := s.PrimaryRegion(gid, "neko"); p != "AWS/EU_WEST_1" {
		t.Fatalf("primary after the change: %q", p)
	}

	if _, err := c.ClustersApi.RestartPrimaries(ctx, gid, "neko").Execute(); err != nil {
		t.Fatal(err)
	}
	if p := s.PrimaryRegion(gid, "neko"); p != "AWS/US_EAST_1" {
		t.Fatalf("primary during the failover test: %q", p)
	}
	clock.Add(int64(time.Minute))
	if p := s.PrimaryRegion(gid, "neko"); p != "AWS/EU_WEST_1" {
		t.Fatalf("primary after the failover test: %q", p)
	}
}

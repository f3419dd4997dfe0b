package atlas_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/atlas-sdk/v20250312020/auth"

	"github.com/neko-defense/nekoctl/pkg/atlasregions"
	"github.com/neko-defense/nekoctl/pkg/emulator/atlas"
)

func digestClient(t *testing.T, s *atlas.Server, pub, priv string) *admin.APIClient {
	t.Helper()
	c, err := admin.NewClient(admin.UseBaseURL(s.URL()), admin.UseDigestAuth(pub, priv))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newServer(t *testing.T) *atlas.Server {
	s := atlas.New(atlas.Options{CreateDuration: 20 * time.Millisecond, UpdateDuration: 20 * time.Millisecond,
		DeleteDuration: 20 * time.Millisecond})
	t.Cleanup(s.Close)
	return s
}

const threeRegions = `{"name":"neko","clusterType":"REPLICASET","backupEnabled":true,"pitEnabled":true,
 "replicationSpecs":[{"regionConfigs":[
  {"providerName":"AWS","regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"EU_WEST_1","priority":6,"electableSpecs":{"instanceSize":"M10","nodeCount":1}},
  {"providerName":"AWS","regionName":"AP_NORTHEAST_1","priority":5,"electableSpecs":{"instanceSize":"M10","nodeCount":1}}]}]}`

func cluster(t *testing.T, js string) *admin.ClusterDescription20240805 {
	t.Helper()
	var c admin.ClusterDescription20240805
	if err := json.Unmarshal([]byte(js), &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestDigestChallengeAndWrongKey(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	if _, _, err := digestClient(t, s, "nobody", "wrong").ProjectsApi.GetGroupByName(ctx, "x").Execute(); !admin.IsErrorCode(err, "NOT_USER_OR_API_KEY") {
		t.Fatalf("wrong key: got %v", err)
	}
	resp, err := http.Get(s.URL() + atlas.APIPrefix + "/groups/byName/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Fatalf("no challenge: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	if _, _, err := c.ProjectsApi.GetGroupByName(ctx, "x").Execute(); !admin.IsErrorCode(err, "GROUP_NAME_NOT_FOUND") {
		t.Fatalf("got %v", err)
	}
}

func TestOAuthServiceAccount(t *testing.T) {
	s := newServer(t)
	ctx := context.WithValue(context.Background(), auth.HTTPClient, &http.Client{Transport: http.DefaultTransport})
	c, err := admin.NewClient(admin.UseBaseURL(s.URL()), admin.UseOAuthAuth(ctx, atlas.DefaultClientID, atlas.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	g, _, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "p", OrgId: atlas.DefaultOrgID}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ProjectsApi.CreateGroup(ctx, &admin.Group{Name: "p", OrgId: atlas.DefaultOrgID}).Execute(); !admin.IsErrorCode(err, "GROUP_ALREADY_EXISTS") {
		t.Fatalf("duplicate project: %v", err)
	}
	if s.Requests()["POST /api/oauth/token"] != 1 || g.GetId() == "" {
		t.Fatalf("token requests: %v", s.Requests())
	}
}

func TestClusterLifecycleAndRules(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	gid := s.SeedProject("p", "")

	bad := map[string]string{
		"INVALID_ATTRIBUTE":       strings.Replace(threeRegions, `"priority":5,"electableSpecs":{"instanceSize":"M10","nodeCount":1}`, `"priority":5,"electableSpecs":{"instanceSize":"M10","nodeCount":2}`, 1),
		"INVALID_REGION":          strings.Replace(threeRegions, "EU_WEST_1", "EUROPE_WEST", 1),
		"CLUSTER_NAME_INVALID":    strings.Replace(threeRegions, `"neko"`, `"-neko"`, 1),
		"VALIDATION_ERROR":        strings.Replace(threeRegions, `"backupEnabled":true`, `"backupEnabled":false`, 1),
		"DUPLICATE_REGION_CONFIG": strings.Replace(threeRegions, "AP_NORTHEAST_1", "EU_WEST_1", 1),
	}
	for code, body := range bad {
		if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, body)).Execute(); !admin.IsErrorCode(err, code) {
			t.Errorf("%s: got %v", code, err)
		}
	}
	if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, threeRegions)).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, threeRegions)).Execute(); !admin.IsErrorCode(err, "DUPLICATE_CLUSTER_NAME") {
		t.Fatalf("duplicate: %v", err)
	}
	got, _, err := c.ClustersApi.GetCluster(ctx, gid, "neko").Execute()
	if err != nil || got.GetStateName() != atlas.StateCreating {
		t.Fatalf("state %q %v", got.GetStateName(), err)
	}
	if rc := got.GetReplicationSpecs()[0].GetRegionConfigs()[0]; rc.ReadOnlySpecs.GetNodeCount() != 0 || !rc.AutoScaling.DiskGB.GetEnabled() {
		t.Fatalf("normalized region config: %+v", rc)
	}
	if _, err := c.ProjectsApi.DeleteGroup(ctx, gid).Execute(); !admin.IsErrorCode(err, "CANNOT_CLOSE_GROUP_ACTIVE_ATLAS_CLUSTERS") {
		t.Fatalf("project delete: %v", err)
	}
	time.Sleep(30 * time.Millisecond)
	if st, _ := s.ClusterState(gid, "neko"); st != atlas.StateIdle {
		t.Fatalf("state %s", st)
	}
	// Moving two of three electable nodes at once loses the majority.
	moved := strings.NewReplacer("EU_WEST_1", "EU_WEST_2", "AP_NORTHEAST_1", "AP_NORTHEAST_2").Replace(threeRegions)
	upd := cluster(t, moved)
	upd.Name = nil
	if _, _, err := c.ClustersApi.UpdateCluster(ctx, gid, "neko", &admin.ClusterDescription20240805{ReplicationSpecs: upd.ReplicationSpecs}).Execute(); !admin.IsErrorCode(err, "VALIDATION_ERROR") {
		t.Fatalf("majority: %v", err)
	}
	// Backup schedule: restore window above hourly retention is refused.
	sc, _, err := c.CloudBackupsApi.GetBackupSchedule(ctx, gid, "neko").Execute()
	if err != nil {
		t.Fatal(err)
	}
	sc.RestoreWindowDays = admin.PtrInt(7)
	if _, _, err := c.CloudBackupsApi.UpdateBackupSchedule(ctx, gid, "neko", sc).Execute(); !admin.IsErrorCode(err, "INVALID_RESTORE_WINDOW") {
		t.Fatalf("restore window: %v", err)
	}
	// Paused clusters refuse PATCH.
	s.SetPaused(gid, "neko", true)
	if _, _, err := c.ClustersApi.UpdateCluster(ctx, gid, "neko", &admin.ClusterDescription20240805{PitEnabled: admin.PtrBool(false)}).Execute(); !admin.IsErrorCode(err, "CANNOT_UPDATE_PAUSED_CLUSTER") {
		t.Fatalf("paused: %v", err)
	}
	s.SetPaused(gid, "neko", false)
	if _, _, err := c.ClustersApi.UpdateCluster(ctx, gid, "neko", &admin.ClusterDescription20240805{TerminationProtectionEnabled: admin.PtrBool(true)}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ClustersApi.DeleteCluster(ctx, gid, "neko").Execute(); !admin.IsErrorCode(err, "CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED") {
		t.Fatalf("protected delete: %v", err)
	}
	_, _, _ = c.ClustersApi.UpdateCluster(ctx, gid, "neko", &admin.ClusterDescription20240805{TerminationProtectionEnabled: admin.PtrBool(false)}).Execute()
	if _, err := c.ClustersApi.DeleteCluster(ctx, gid, "neko").Execute(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if _, _, err := c.ClustersApi.GetCluster(ctx, gid, "neko").Execute(); !admin.IsErrorCode(err, "CLUSTER_NOT_FOUND") {
		t.Fatalf("after delete: %v", err)
	}
}

func TestAccessListEscapedPathAndFaults(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	gid := s.SeedProject("p", "")
	entries := []admin.NetworkPermissionEntry{{CidrBlock: admin.PtrString("10.1.0.0/16"), Comment: admin.PtrString("x")}}
	if _, _, err := c.ProjectIPAccessListApi.CreateAccessListEntry(ctx, gid, &entries).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ProjectIPAccessListApi.GetAccessListEntry(ctx, gid, "10.1.0.0/16").Execute(); err != nil {
		t.Fatal(err)
	}
	s.AddFault(atlas.Fault{Method: "DELETE", Status: 429, RetryAfter: "1"})
	_, err := c.ProjectIPAccessListApi.DeleteAccessListEntry(ctx, gid, "10.1.0.0/16").Execute()
	if e, ok := admin.AsError(err); !ok || e.GetError() != 429 {
		t.Fatalf("fault: %v", err)
	}
	if _, err := c.ProjectIPAccessListApi.DeleteAccessListEntry(ctx, gid, "10.1.0.0/16").Execute(); err != nil {
		t.Fatal(err)
	}
	if got := s.AccessEntries(gid); len(got) != 0 {
		t.Fatalf("left: %v", got)
	}
	if n := s.Requests()["DELETE /groups/{groupId}/accessList/{entryValue}"]; n != 2 {
		t.Fatalf("counts: %s", s.CountSummary())
	}
}

func TestLostCreateResponse(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	gid := s.SeedProject("p", "")
	s.LoseNextClusterCreate()
	if _, _, err := c.ClustersApi.CreateCluster(ctx, gid, cluster(t, threeRegions)).Execute(); err == nil {
		t.Fatal("expected a transport error")
	}
	if names := s.ClusterNames(gid); len(names) != 1 {
		t.Fatalf("clusters: %v", names)
	}
}

func TestInjectedClockDrivesTransitions(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	s := atlas.New(atlas.Options{Now: func() time.Time { return time.Unix(0, clock.Load()) }, CreateDuration: 20 * time.Minute})
	t.Cleanup(s.Close)
	gid := s.SeedProject("p", "")
	c := digestClient(t, s, atlas.DefaultPublicKey, atlas.DefaultPrivateKey)
	if _, _, err := c.ClustersApi.CreateCluster(context.Background(), gid, cluster(t, threeRegions)).Execute(); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(19 * time.Minute))
	if st, _ := s.ClusterState(gid, "neko"); st != atlas.StateCreating {
		t.Fatalf("at 19 min: %s", st)
	}
	clock.Add(int64(time.Minute))
	if st, _ := s.ClusterState(gid, "neko"); st != atlas.StateIdle {
		t.Fatalf("at 20 min: %s", st)
	}
}

// The emulator accepts exactly the shared region table the spec validator
// uses: every name of every provider, and no name of another provider.
func TestRegionsAreTheSharedTable(t *testing.T) {
	s := newServer(t)
	gid := s.SeedProject("p", "")
	n := 0
	for _, p := range atlasregions.Providers {
		for _, name := range atlasregions.Names(p) {
			n++
			body := fmt.Sprintf(`{"name":"c%d","replicationSpecs":[{"regionConfigs":[{"providerName":%q,"regionName":%q,"priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`, n, p, name)
			if err := s.SeedCluster(gid, []byte(body)); err != nil {
				t.Errorf("%s %s refused: %v", p, name, err)
			}
		}
	}
	for _, bad := range [][2]string{{"GCP", "US_EAST_1"}, {"AWS", "CENTRAL_US"}, {"AZURE", "EU_WEST_1"}} {
		body := fmt.Sprintf(`{"name":"bad","replicationSpecs":[{"regionConfigs":[{"providerName":%q,"regionName":%q,"priority":7,"electableSpecs":{"instanceSize":"M10","nodeCount":3}}]}]}`, bad[0], bad[1])
		if err := s.SeedCluster(gid, []byte(body)); err == nil || !strings.Contains(err.Error(), "INVALID_REGION") {
			t.Errorf("%s %s: %v", bad[0], bad[1], err)
		}
	}
}

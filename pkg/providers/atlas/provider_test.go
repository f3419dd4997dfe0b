package atlas_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	emu "github.com/neko-defense/nekoctl/pkg/emulator/atlas"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

func TestUpFromEmptyThenNoChanges(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	p := e.provider(st, false)
	out := provider.NewOutputs()

	changes := planWith(t, p, out, provider.Options{})
	if got := actions(changes); got["create"] != 10 || len(changes) != 10 {
		t.Fatalf("plan from empty: %v", got)
	}
	if u := find(changes, atlas.KindDatabaseUser); len(u.Produces) != 2 {
		t.Fatalf("user change must produce the password and URI: %+v", u.Produces)
	}
	planCalls := e.srv.Total()
	e.srv.ResetCounts()
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("plan from empty: %d API calls; up: %d API calls (%d mutations, %d Digest challenges)\n%s", planCalls, e.srv.Total(), e.srv.Mutations(), e.srv.Challenges(), e.srv.CountSummary())
	if planCalls != 1 || e.srv.Mutations() != 10 {
		t.Errorf("plan from empty: %d calls (want 1); up: %d mutations (want 10: project, cluster, schedule, user, 3 entries, 3 alert configurations)",
			planCalls, e.srv.Mutations())
	}

	gid, _ := e.srv.ProjectID("neko-defense")
	if st, _ := e.srv.ClusterState(gid, "neko-prod"); st != emu.StateIdle {
		t.Fatalf("cluster %s", st)
	}
	var sawCreating bool
	for _, ev := range e.events.all() {
		if ev.Type == event.Progress && ev.Message == emu.StateCreating && ev.Address.Kind == atlas.KindCluster {
			sawCreating = true
		}
	}
	if !sawCreating {
		t.Fatalf("no CREATING progress event: %+v", e.events.all())
	}
	doc, _ := e.srv.ClusterDoc(gid, "neko-prod")
	prio := map[string]int{}
	for _, rc := range (*doc.ReplicationSpecs)[0].RegionConfigs {
		prio[rc.RegionName] = *rc.Priority
	}
	if fmt.Sprint(prio) != "map[AP_NORTHEAST_1:5 EU_WEST_1:6 US_EAST_1:7]" || !*doc.PitEnabled || !*doc.TerminationProtectionEnabled {
		t.Fatalf("cluster: %v", prio)
	}
	sched, _ := e.srv.BackupSchedule(gid, "neko-prod")
	if *sched.RestoreWindowDays != 7 || sched.Policies[0].PolicyItems[0].RetentionValue != 7 {
		t.Fatalf("schedule: %+v", sched)
	}
	if pw, _ := e.srv.DatabaseUserPassword(gid, "neko-api"); pw != testPassword {
		t.Fatalf("password sent %q", pw)
	}
	if got := e.srv.AccessEntries(gid); strings.Join(got, " ") != "192.0.2.10/32 198.51.100.16/28 203.0.113.0/28" {
		t.Fatalf("access list %v", got)
	}
	uri, _ := out.Get(provider.OutMongoURI)
	s, ok := uri.(plan.Sensitive)
	if !ok || !strings.HasPrefix(s.Reveal(), "mongodb+srv://neko-api:"+testPassword+"@neko-prod.") ||
		!strings.HasSuffix(s.Reveal(), "/neko_defense?readPreference=nearest&retryWrites=true&w=majority") {
		t.Fatalf("uri %v", s.Reveal())
	}

	// The next plan, from a fresh provider with the password from the Secrets, is empty.
	e.srv.ResetCounts()
	next := secretsOnly(out)
	again := planWith(t, e.provider(st, false), next, provider.Options{})
	for _, c := range again {
		if c.Action != plan.NoOp {
			t.Errorf("second plan: %s %s %+v", c.Action, c.Address, c.Fields)
		}
	}
	if n := e.srv.Total(); n != 6 {
		t.Errorf("plan of an existing stack: %d API calls, want 6\n%s", n, e.srv.CountSummary())
	}
	if v, ok := next.Get(provider.OutMongoURI); !ok || v.(plan.Sensitive).Reveal() != s.Reveal() {
		t.Errorf("the unchanged connection string must be published while planning")
	}
}

func TestTierChangeIsOneUpdate(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	st.Spec.Atlas.Cluster.Tier = "M20"
	e.srv.ResetCounts()
	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	if got := actions(changes); got["update"] != 1 || got["no-op"] != len(changes)-1 {
		t.Fatalf("actions %v", got)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests()["PATCH /groups/{groupId}/clusters/{clusterName}"]; n != 1 {
		t.Fatalf("PATCH count %d", n)
	}
	body := e.srv.Bodies("PATCH /groups/{groupId}/clusters/{clusterName}")[0]
	if strings.Contains(body, "backupEnabled") || strings.Count(body, `"instanceSize":"M20"`) != 6 {
		t.Fatalf("PATCH must carry only the topology: %s", body)
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["update"] != 0 {
		t.Fatalf("after tier change: %v", actions(again))
	}
}

func TestAddedRegionSendsWholeTopology(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	st.Spec.Regions = append(st.Spec.Regions, spec.Region{Name: "sa-east", Cloud: spec.Cloud{Provider: "aws", Region: "sa-east-1"},
		Atlas: spec.RegionAtlas{Region: "SA_EAST_1", ElectableNodes: spec.Int(0), ReadOnlyNodes: 1}})
	st.ApplyDefaults()
	e.srv.ResetCounts()
	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	if got := actions(changes); got["update"] != 1 {
		t.Fatalf("actions %v", got)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	bodies := e.srv.Bodies("PATCH /groups/{groupId}/clusters/{clusterName}")
	if len(bodies) != 1 {
		t.Fatalf("PATCHes: %d", len(bodies))
	}
	for _, r := range []string{"US_EAST_1", "EU_WEST_1", "AP_NORTHEAST_1", "SA_EAST_1"} {
		if !strings.Contains(bodies[0], r) {
			t.Fatalf("PATCH lacks %s: %s", r, bodies[0])
		}
	}
	// Removing the read-only region again sends the remaining topology.
	st.Spec.Regions = st.Spec.Regions[:3]
	changes = planWith(t, e.provider(st, false), out, provider.Options{})
	if err := apply(t, e.provider(st, false), changes, out); err != nil {
		t.Fatal(err)
	}
	gid, _ := e.srv.ProjectID("neko-defense")
	doc, _ := e.srv.ClusterDoc(gid, "neko-prod")
	if n := len((*doc.ReplicationSpecs)[0].RegionConfigs); n != 3 {
		t.Fatalf("regions after removal: %d", n)
	}
}

func TestMovingRegionsIsStaged(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	// Two of three regions move: one PATCH would leave 1 of 3 electable nodes.
	st.Spec.Regions[1].Atlas.Region = "EU_CENTRAL_1"
	st.Spec.Regions[2].Atlas.Region = "AP_SOUTHEAST_1"
	e.srv.ResetCounts()
	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	c := find(changes, atlas.KindCluster)
	if c.Action != plan.Update || !strings.Contains(strings.Join(c.Notes, ";"), "2 steps") {
		t.Fatalf("cluster change %s %v", c.Action, c.Notes)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests()["PATCH /groups/{groupId}/clusters/{clusterName}"]; n != 2 {
		t.Fatalf("PATCH count %d", n)
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["update"] != 0 {
		t.Fatalf("after move: %v", actions(again))
	}
}

func TestLostCreateResponseLeavesOneCluster(t *testing.T) {
	e := newEnv(t)
	e.srv.LoseNextClusterCreate()
	p := e.provider(guideStack(), false)
	out := provider.NewOutputs()
	if err := apply(t, p, planWith(t, p, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	gid, _ := e.srv.ProjectID("neko-defense")
	if names := e.srv.ClusterNames(gid); len(names) != 1 {
		t.Fatalf("clusters %v", names)
	}
	if n := e.srv.Requests()["POST /groups/{groupId}/clusters"]; n != 1 {
		t.Fatalf("creates sent: %d", n)
	}
}

func TestRateLimitStormConverges(t *testing.T) {
	e := newEnv(t)
	e.srv.AddFault(emu.Fault{Status: 429, RetryAfter: "0", Times: 7})
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/clusters", Status: 429, Times: 3})
	e.srv.AddFault(emu.Fault{Method: "GET", PathContains: "/clusters/neko-prod", Status: 503, RetryAfter: "0", Times: 3})
	st := guideStack()
	out := e.up(st)
	if n := e.srv.Requests()["POST /groups/{groupId}/clusters"]; n != 4 {
		t.Fatalf("cluster creates: %d (3 refused, 1 accepted)", n)
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["no-op"] != len(again) {
		t.Fatalf("after storm: %v", actions(again))
	}
}

func TestDownRefusesProtectedClusterWithoutForce(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")

	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{Destroy: true})
	c := find(changes, atlas.KindCluster)
	if c.Action != plan.NoOp || !strings.Contains(strings.Join(c.Notes, ";"), "termination protection") {
		t.Fatalf("protected cluster: %s %v", c.Action, c.Notes)
	}
	if pr := find(changes, atlas.KindProject); pr.Action != plan.NoOp {
		t.Fatalf("project holding a protected cluster: %s", pr.Action)
	}
	if got := actions(changes); got["delete"] != 7 {
		t.Fatalf("down without --force deletes the user, access list and alert configurations only: %v", got)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if names := e.srv.ClusterNames(gid); len(names) != 1 {
		t.Fatalf("cluster deleted without --force")
	}

	changes = planWith(t, p, out, provider.Options{Destroy: true, Force: true})
	if got := actions(changes); got["delete"] != 1 || got["keep"] != 1 {
		t.Fatalf("forced down: %v (the cluster deleted, the project kept for its snapshots)", got)
	}
	if c := find(changes, atlas.KindCluster); !strings.Contains(strings.Join(c.Notes, ";"), "turned off first") {
		t.Fatalf("notes %v", c.Notes)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.ProjectID("neko-defense"); !ok {
		t.Fatal("the project holding the retained snapshots was deleted")
	}

}

// assertNoSecrets renders changes every way a plan is shown and looks for
// the password and the connection string.
func assertNoSecrets(t *testing.T, changes []plan.Change) {
	t.Helper()
	js, err := json.Marshal(changes)
	if err != nil {
		t.Fatal(err)
	}
	pl := &plan.Plan{Stack: "neko", Changes: changes}
	var text, pj bytes.Buffer
	if err := printer.PlanText(&text, pl, printer.TextOptions{ShowUnchanged: true}); err != nil {
		t.Fatal(err)
	}
	if err := printer.PlanJSON(&pj, pl); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(js), fmt.Sprintf("%v", changes), fmt.Sprintf("%+v", changes), fmt.Sprintf("%#v", changes),
		text.String(), pj.String()} {
		if strings.Contains(s, testPassword) || strings.Contains(s, "mongodb+srv") || strings.Contains(s, "mongodb.net") {
			t.Fatalf("secret rendered: %s", s)
		}
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	p := e.provider(st, false)
	out := provider.NewOutputs()
	changes := planWith(t, p, out, provider.Options{})
	assertNoSecrets(t, changes)
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	out = secretsOnly(out)
	p = e.provider(st, true)
	changes = planWith(t, p, out, provider.Options{RotateDBPassword: true})
	u := find(changes, atlas.KindDatabaseUser)
	if u.Action != plan.Update {
		t.Fatalf("rotation: %s", u.Action)
	}
	assertNoSecrets(t, changes)
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	for _, ev := range e.events.all() {
		if strings.Contains(fmt.Sprintf("%+v", ev), testPassword) {
			t.Fatalf("secret in event %+v", ev)
		}
	}
}

func TestResumesACreatingCluster(t *testing.T) {
	e := newEnv(t)
	e.srv.SetDurations(300*time.Millisecond, 20*time.Millisecond, 20*time.Millisecond)
	st := guideStack()
	p := atlas.New(st, e.client, atlas.Config{PollInterval: 5 * time.Millisecond, Timeout: 50 * time.Millisecond,
		Password: func() (string, error) { return testPassword, nil }})
	out := provider.NewOutputs()
	err := apply(t, p, planWith(t, p, out, provider.Options{}), out)
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("want a timeout, got %v", err)
	}
	// Run again: the cluster is found CREATING and waited for, not created again.
	p = e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	c := find(changes, atlas.KindCluster)
	if c.Action != plan.Update || len(c.Fields) != 0 || !strings.Contains(strings.Join(c.Notes, ";"), "CREATING") {
		t.Fatalf("resumed plan: %s %v %v", c.Action, c.Fields, c.Notes)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	gid, _ := e.srv.ProjectID("neko-defense")
	if st, _ := e.srv.ClusterState(gid, "neko-prod"); st != emu.StateIdle || e.srv.Requests()["POST /groups/{groupId}/clusters"] != 1 {
		t.Fatalf("state %s, creates %d", st, e.srv.Requests()["POST /groups/{groupId}/clusters"])
	}
}

func TestOfflineDesiredAndLayoutErrorsBeforeAnyCall(t *testing.T) {
	st := guideStack()
	p := atlas.New(st, nil, atlas.Config{})
	res, err := p.Desired(context.Background(), provider.NewOutputs())
	if err != nil || len(res) != 10 {
		t.Fatalf("offline desired: %d %v", len(res), err)
	}
	e := newEnv(t)
	st.Spec.Regions[0].Atlas.ElectableNodes = spec.Int(2)
	if _, err := e.provider(st, false).Desired(context.Background(), provider.NewOutputs()); err == nil ||
		!strings.Contains(err.Error(), "3, 5 or 7") {
		t.Fatalf("layout error: %v", err)
	}
	if e.srv.Total() != 0 {
		t.Fatal("a call was made")
	}
}

func TestAutoscalingOwnedFieldsIgnored(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	st.Spec.Atlas.Cluster.Autoscaling = &spec.Autoscaling{Compute: true, Disk: true, MinTier: "M10", MaxTier: "M40"}
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	// Atlas scales the cluster up by itself.
	doc, _ := e.srv.ClusterDoc(gid, "neko-prod")
	rcs := (*doc.ReplicationSpecs)[0].RegionConfigs
	sort.Slice(rcs, func(i, j int) bool { return *rcs[i].Priority > *rcs[j].Priority }) // requests list them by priority
	for _, rc := range rcs {
		rc.ElectableSpecs.InstanceSize, rc.ReadOnlySpecs.InstanceSize, rc.AnalyticsSpecs.InstanceSize = "M30", "M30", "M30"
		gb := 80.0
		rc.ElectableSpecs.DiskSizeGB, rc.ReadOnlySpecs.DiskSizeGB, rc.AnalyticsSpecs.DiskSizeGB = &gb, &gb, &gb
	}
	b, _ := json.Marshal(map[string]any{"replicationSpecs": doc.ReplicationSpecs})
	var patch admin.ClusterDescription20240805
	if err := json.Unmarshal(b, &patch); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.client.ClustersApi.UpdateCluster(context.Background(), gid, "neko-prod", &patch).Execute(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(40 * time.Millisecond)
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["no-op"] != len(again) {
		t.Fatalf("autoscaled cluster gives changes: %+v", find(again, atlas.KindCluster).Fields)
	}
}

func TestRemovingReadOnlyNodesSendsZero(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	st.Spec.Regions[1].Atlas.ReadOnlyNodes = 1
	out := e.up(st)
	st.Spec.Regions[1].Atlas.ReadOnlyNodes = 0
	e.srv.ResetCounts()
	p := e.provider(st, false)
	if err := apply(t, p, planWith(t, p, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	bodies := e.srv.Bodies("PATCH /groups/{groupId}/clusters/{clusterName}")
	if len(bodies) != 1 {
		t.Fatalf("PATCHes: %d", len(bodies))
	}
	var patch admin.ClusterDescription20240805
	if err := json.Unmarshal([]byte(bodies[0]), &patch); err != nil {
		t.Fatal(err)
	}
	for _, rc := range patch.GetReplicationSpecs()[0].GetRegionConfigs() {
		if rc.GetRegionName() == "EU_WEST_1" && (rc.ReadOnlySpecs == nil || rc.ReadOnlySpecs.NodeCount == nil || *rc.ReadOnlySpecs.NodeCount != 0) {
			t.Fatalf("read-only nodes not removed explicitly: %s", bodies[0])
		}
	}
	health, err := p.Status(context.Background())
	if err != nil || len(health) != 1 || !health[0].Healthy || health[0].State != "IDLE" {
		t.Fatalf("status %+v %v", health, err)
	}
}

func TestCreateRefusedWith503IsRetriedAfterReRead(t *testing.T) {
	e := newEnv(t)
	e.srv.SetLatency(time.Millisecond)
	e.srv.AddFault(emu.Fault{Method: "POST", PathContains: "/clusters", Status: 503, Times: 2})
	st := guideStack()
	p := atlas.New(st, e.client, atlas.Config{PollInterval: 5 * time.Millisecond,
		Sleep: func(ctx context.Context, d time.Duration) error {
			time.Sleep(min(d, 5*time.Millisecond))
			return ctx.Err()
		}})
	out := provider.NewOutputs()
	if err := apply(t, p, planWith(t, p, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	gid, _ := e.srv.ProjectID("neko-defense")
	if n := e.srv.Requests()["POST /groups/{groupId}/clusters"]; n != 3 || len(e.srv.ClusterNames(gid)) != 1 {
		t.Fatalf("creates %d, clusters %v", n, e.srv.ClusterNames(gid))
	}
}

func TestPasswordWithoutSecretsAndUserRecreated(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")

	// No Secret holds the password any more: a new one is set, and said so.
	changes := planWith(t, e.provider(st, false), provider.NewOutputs(), provider.Options{})
	u := find(changes, atlas.KindDatabaseUser)
	if u.Action != plan.Update || !strings.Contains(strings.Join(u.Notes, ";"), "no region's Secret") || len(u.Produces) != 2 {
		t.Fatalf("user without Secret: %s %v %v", u.Action, u.Notes, u.Produces)
	}

	// The user was deleted in Atlas but the Secrets hold the password: it is recreated with it.
	if _, err := e.client.DatabaseUsersApi.DeleteDatabaseUser(context.Background(), gid, "admin", "neko-api").Execute(); err != nil {
		t.Fatal(err)
	}
	out.Set(provider.OutDBPassword, plan.NewSensitive("Kept-in-the-Secret-0123456789"))
	p := e.provider(st, false)
	changes = planWith(t, p, out, provider.Options{})
	u = find(changes, atlas.KindDatabaseUser)
	if u.Action != plan.Create || len(u.Produces) != 2 {
		t.Fatalf("recreate: %s %v", u.Action, u.Produces)
	}
	if _, ok := out.Get(provider.OutMongoURI); ok {
		t.Fatal("the connection string was published before its user exists")
	}
	next := provider.NewOutputs()
	if err := apply(t, p, changes, next); err != nil {
		t.Fatal(err)
	}
	if pw, _ := e.srv.DatabaseUserPassword(gid, "neko-api"); pw != "Kept-in-the-Secret-0123456789" {
		t.Fatalf("recreated with another password")
	}
}

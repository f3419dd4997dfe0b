package atlas_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

func (e *env) projectTags(name string) map[string]string {
	e.t.Helper()
	g, _, err := e.client.ProjectsApi.GetGroupByName(context.Background(), name).Execute()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, t := range g.GetTags() {
		out[t.Key] = t.Value
	}
	return out
}

// `down --force` of a project holding a user and an access-list entry made
// outside nekoctl: the plan keeps the project and says why, the stack's own
// objects are deleted, the foreign ones survive, and the next `up` takes
// the released project back.
func TestDownForceKeepsProjectWithForeignObjects(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	ctx := context.Background()
	ops := &admin.CloudDatabaseUser{GroupId: gid, DatabaseName: "admin", Username: "ops", Password: admin.PtrString("ops-password-1"),
		Roles: []admin.DatabaseUserRole{{RoleName: "readAnyDatabase", DatabaseName: "admin"}}}
	if _, _, err := e.client.DatabaseUsersApi.CreateDatabaseUser(ctx, gid, ops).Execute(); err != nil {
		t.Fatal(err)
	}
	office := []admin.NetworkPermissionEntry{{CidrBlock: admin.PtrString("10.9.0.0/16"), Comment: admin.PtrString("office")}}
	if _, _, err := e.client.ProjectIPAccessListApi.CreateAccessListEntry(ctx, gid, &office).Execute(); err != nil {
		t.Fatal(err)
	}

	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{Destroy: true, Force: true})
	pr := find(changes, atlas.KindProject)
	const why = `kept: holds objects nekoctl does not own (access_list_entry["10.9.0.0/16"], database_user["admin/ops"])`
	if pr.Action != plan.Keep || pr.Reason != why {
		t.Fatalf("project: %s %q, want keep %q", pr.Action, pr.Reason, why)
	}
	pl := &plan.Plan{Stack: "neko", Changes: changes}
	if s := pl.Summary(); s.Keep != 1 || s.Destroy != 8 {
		t.Fatalf("summary %+v: want 1 kept and 8 deleted (cluster, user, three entries, three alert configurations)", s)
	}
	var text bytes.Buffer
	if err := printer.PlanText(&text, pl, printer.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), why) || !strings.Contains(text.String(), "1 to keep") {
		t.Fatalf("the plan does not say what is kept and why:\n%s", text.String())
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests()["DELETE /groups/{groupId}"]; n != 0 {
		t.Fatal("the project was deleted")
	}
	if got := e.srv.AccessEntries(gid); len(got) != 1 || got[0] != "10.9.0.0/16" {
		t.Fatalf("access list after down: %v", got)
	}
	if _, ok := e.srv.DatabaseUserPassword(gid, "ops"); !ok {
		t.Fatal("the foreign user was deleted")
	}
	if _, ok := e.srv.DatabaseUserPassword(gid, "neko-api"); ok {
		t.Fatal("the stack's user survived down")
	}
	if tags := e.projectTags("neko-defense"); tags[atlas.TagStack] != "" || tags[atlas.TagReleased] != "neko" {
		t.Fatalf("released project tags %v", tags)
	}

	// The next up takes the released project back: no conflict, tags restored.
	changes = planWith(t, e.provider(st, false), out, provider.Options{})
	pr = find(changes, atlas.KindProject)
	if pr.Action != plan.Update || pr.Conflict != "" || !strings.Contains(strings.Join(pr.Notes, ";"), "taken back") {
		t.Fatalf("re-adoption: %s conflict=%q notes=%v", pr.Action, pr.Conflict, pr.Notes)
	}
	out = e.up(st)
	if tags := e.projectTags("neko-defense"); tags[atlas.TagStack] != "neko" || tags[atlas.TagReleased] != "" {
		t.Fatalf("tags after up %v", tags)
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["no-op"] != len(again) {
		t.Fatalf("after re-adoption: %v", actions(again))
	}
}

// A project and cluster of the spec's names made by hand (the guide's
// steps) are conflicts until --adopt; adopting tags them and updates the
// owned fields; the next plan is empty. Fingerprints follow the live state.
func TestAdoptHandMadeProjectAndCluster(t *testing.T) {
	e := newEnv(t)
	gid := e.srv.SeedProject("neko-defense", "")
	handMade := `{"name":"neko-prod","clusterType":"REPLICASET","backupEnabled":true,"pitEnabled":true,
 "replicationSpecs":[{"regionConfigs":[
  {"providerName":"AWS","regionName":"US_EAST_1","priority":7,"electableSpecs":{"instanceSize":"M20","nodeCount":1}},
  {"providerName":"AWS","regionName":"EU_WEST_1","priority":6,"electableSpecs":{"instanceSize":"M20","nodeCount":1}},
  {"providerName":"AWS","regionName":"AP_NORTHEAST_1","priority":5,"electableSpecs":{"instanceSize":"M20","nodeCount":1}}]}]}`
	if err := e.srv.SeedCluster(gid, []byte(handMade)); err != nil {
		t.Fatal(err)
	}
	st := guideStack()
	out := provider.NewOutputs()
	changes := planWith(t, e.provider(st, false), out, provider.Options{})
	for _, kind := range []string{atlas.KindProject, atlas.KindCluster} {
		c := find(changes, kind)
		if c.Action != plan.Adopt || c.Conflict != provider.ConflictUnowned || c.Fingerprint == "" {
			t.Fatalf("%s without --adopt: %s conflict=%q fingerprint=%q", kind, c.Action, c.Conflict, c.Fingerprint)
		}
	}
	first := find(changes, atlas.KindCluster).Fingerprint
	if again := find(planWith(t, e.provider(st, false), out, provider.Options{}), atlas.KindCluster); again.Fingerprint != first {
		t.Fatalf("fingerprint changed without a change: %s then %s", first, again.Fingerprint)
	}
	if !strings.HasPrefix(first, "IDLE/") {
		t.Fatalf("cluster fingerprint %q does not carry the state", first)
	}

	p := e.provider(st, false)
	changes = planWith(t, p, out, provider.Options{Adopt: true})
	if n := len((&plan.Plan{Changes: changes}).Conflicts()); n != 0 {
		t.Fatalf("%d conflicts with --adopt", n)
	}
	c := find(changes, atlas.KindCluster)
	if c.Action != plan.Adopt || !hasField(c, "regions.AWS/US_EAST_1.instanceSize") || !hasField(c, "tags.nekoctl-stack") {
		t.Fatalf("cluster adoption: %s %v", c.Action, c.Fields)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	doc, _ := e.srv.ClusterDoc(gid, "neko-prod")
	tags := map[string]string{}
	for _, tg := range *doc.Tags {
		tags[tg.Key] = tg.Value
	}
	if tags[atlas.TagStack] != "neko" || (*doc.ReplicationSpecs)[0].RegionConfigs[0].ElectableSpecs.InstanceSize != "M10" {
		t.Fatalf("adopted cluster: tags %v, specs %+v", tags, (*doc.ReplicationSpecs)[0].RegionConfigs[0].ElectableSpecs)
	}
	if tags := e.projectTags("neko-defense"); tags[atlas.TagStack] != "neko" {
		t.Fatalf("adopted project tags %v", tags)
	}
	if n := e.srv.Requests()["POST /groups"] + e.srv.Requests()["POST /groups/{groupId}/clusters"]; n != 0 {
		t.Fatalf("%d creates while adopting", n)
	}
	again := planWith(t, e.provider(st, false), secretsOnly(out), provider.Options{})
	if actions(again)["no-op"] != len(again) {
		t.Fatalf("after adoption: %v", actions(again))
	}
	if fp := find(again, atlas.KindCluster).Fingerprint; fp == first {
		t.Fatal("the cluster fingerprint did not change with the cluster")
	}
}

func hasField(c *plan.Change, path string) bool {
	for _, f := range c.Fields {
		if f.Path == path {
			return true
		}
	}
	return false
}

// Two users of the stack with the spec's user name (admin, and a second
// one in $external made by mistake) are read as two resources: the one the
// application uses stays, the other is planned as a delete with the reason,
// and one `up` converges.
func TestDuplicateUserOfOneNameConverges(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	out := e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	second := &admin.CloudDatabaseUser{GroupId: gid, DatabaseName: "$external", Username: "neko-api", X509Type: admin.PtrString("CUSTOMER"),
		Roles:  []admin.DatabaseUserRole{{RoleName: "readWrite", DatabaseName: "neko_defense"}},
		Labels: &[]admin.ComponentLabel{{Key: admin.PtrString(atlas.TagStack), Value: admin.PtrString("neko")}}}
	if _, _, err := e.client.DatabaseUsersApi.CreateDatabaseUser(context.Background(), gid, second).Execute(); err != nil {
		t.Fatal(err)
	}
	p := e.provider(st, false)
	changes := planWith(t, p, out, provider.Options{})
	var dup *plan.Change
	for i := range changes {
		if changes[i].Address.Kind == atlas.KindDatabaseUser {
			switch changes[i].Address.Name {
			case "neko-api":
				if changes[i].Action != plan.NoOp {
					t.Errorf("the user in use: %s", changes[i].Action)
				}
			case "$external/neko-api":
				dup = &changes[i]
			}
		}
	}
	if dup == nil || dup.Action != plan.Delete || dup.Reason != `a second user "neko-api" of this stack, in $external: the application uses admin/neko-api` {
		t.Fatalf("duplicate user: %+v", dup)
	}
	if err := apply(t, p, changes, out); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Requests()["DELETE /groups/{groupId}/databaseUsers/{databaseName}/{username}"]; n != 1 {
		t.Fatalf("%d user deletes", n)
	}
	if _, ok := e.srv.DatabaseUserPassword(gid, "neko-api"); !ok {
		t.Fatal("the user in use was deleted")
	}
	if again := planWith(t, e.provider(st, false), out, provider.Options{}); actions(again)["no-op"] != len(again) {
		t.Fatalf("after one up: %v", actions(again))
	}
}

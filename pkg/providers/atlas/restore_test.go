package atlas_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	atlas "github.com/neko-defense/nekoctl/pkg/providers/atlas"
)

// `down --force` keeps the cluster's snapshots unless backups are to be
// deleted, and the plan says which.
func TestDownForceKeepsSnapshots(t *testing.T) {
	for _, del := range []bool{false, true} {
		e := newEnv(t)
		st := guideStack()
		out := e.up(st)
		gid, _ := e.srv.ProjectID("neko-defense")
		if _, err := e.srv.TakeSnapshot(gid, "neko-prod"); err != nil {
			t.Fatal(err)
		}
		p := atlas.New(st, e.client, atlas.Config{PollInterval: 5 * time.Millisecond, Sleep: shortSleep, DeleteBackups: del})
		changes := planWith(t, p, out, provider.Options{Destroy: true, Force: true})
		notes := strings.Join(find(changes, atlas.KindCluster).Notes, ";")
		want := "snapshots are kept"
		if del {
			want = "snapshots are deleted with it"
		}
		if !strings.Contains(notes, want) {
			t.Fatalf("delete-backups=%v: plan notes %q do not say %q", del, notes, want)
		}
		pr := find(changes, atlas.KindProject)
		if keep := pr.Action == plan.Keep && strings.Contains(pr.Reason, "retained backup snapshots"); keep == del {
			t.Fatalf("delete-backups=%v: project %s %q", del, pr.Action, pr.Reason)
		}
		if err := apply(t, p, changes, out); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.srv.ProjectID("neko-defense"); ok == del {
			t.Fatalf("delete-backups=%v: project left %v", del, ok)
		}
		live, retained := e.srv.Snapshots(gid, "neko-prod")
		if live != 0 || (retained == 2) == del || (!del && retained != 2) {
			t.Fatalf("delete-backups=%v: %d live and %d retained snapshots", del, live, retained)
		}
	}
}

// A snapshot restore and a point-in-time restore start a job and wait for
// it; a point outside the restore window is refused by Atlas's rules; the
// failover test restarts the primary and waits for IDLE.
func TestRestoreAndFailoverTest(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	e.up(st)
	gid, _ := e.srv.ProjectID("neko-defense")
	snap, err := e.srv.TakeSnapshot(gid, "neko-prod")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := e.provider(st, false)
	for name, r := range map[string]atlas.Restore{
		"snapshot":      {SnapshotID: snap},
		"point in time": {At: time.Now().Add(-time.Hour)},
	} {
		id, err := p.StartRestore(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := p.WaitRestore(ctx, id); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := p.StartRestore(ctx, atlas.Restore{At: time.Now().AddDate(0, 0, -30)}); err == nil || !strings.Contains(err.Error(), "INVALID_RESTORE_POINT_IN_TIME") {
		t.Fatalf("outside the window: %v", err)
	}
	if _, err := p.StartRestore(ctx, atlas.Restore{SnapshotID: snap, TargetCluster: "nowhere"}); err == nil || !strings.Contains(err.Error(), "CLUSTER_NOT_FOUND") {
		t.Fatalf("missing target: %v", err)
	}
	if n := e.srv.Requests()["POST /groups/{groupId}/clusters/{clusterName}/backup/restoreJobs"]; n != 4 {
		t.Fatalf("%d restore requests", n)
	}
	if err := p.RestartPrimaries(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.PrimaryRestarts(gid, "neko-prod"); n != 1 {
		t.Fatalf("%d failover tests", n)
	}
	if st, _ := e.srv.ClusterState(gid, "neko-prod"); st != "IDLE" {
		t.Fatalf("after the failover test: %s", st)
	}
}

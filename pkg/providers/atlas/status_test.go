package atlas_test

import (
	"context"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestStatusShowsPrimaryAndBackups: the cluster's line names the region of
// the highest priority as the spec names it, backup and PITR with the
// restore window and the newest snapshot; PITR off while the spec asks for
// it makes the cluster unhealthy.
func TestStatusShowsPrimaryAndBackups(t *testing.T) {
	e := newEnv(t)
	st := guideStack()
	st.Spec.Atlas.Backup.PITRWindowDays = spec.Int(0)
	p := e.provider(st, false)
	out := provider.NewOutputs()
	if err := apply(t, p, planWith(t, p, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	gid, _ := e.srv.ProjectID("neko-defense")
	if _, err := e.srv.TakeSnapshot(gid, "neko-prod"); err != nil {
		t.Fatal(err)
	}
	hs, err := p.Status(context.Background())
	if err != nil || len(hs) != 1 {
		t.Fatalf("status %+v %v", hs, err)
	}
	db := hs[0].Database
	if db == nil || db.PrimaryRegion != "us-east" || db.PrimaryAtlasRegion != "AWS/US_EAST_1" || !db.BackupEnabled ||
		db.PITREnabled || db.RestoreWindowDays != 0 || db.LastSnapshot == nil {
		t.Fatalf("database facts = %+v", db)
	}
	if !hs[0].Healthy {
		t.Errorf("a cluster as the spec asks is unhealthy: %+v", hs[0])
	}

	// The spec now asks for PITR, which the live cluster does not have.
	st.Spec.Atlas.Backup.PITRWindowDays = spec.Int(2)
	hs, err = p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hs[0].Healthy || !strings.Contains(hs[0].Detail, "point-in-time recovery is off") {
		t.Errorf("PITR off against the spec: %+v", hs[0])
	}
	if err := apply(t, p, planWith(t, p, out, provider.Options{}), out); err != nil {
		t.Fatal(err)
	}
	hs, err = p.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if db = hs[0].Database; !hs[0].Healthy || !db.PITREnabled || db.RestoreWindowDays != 2 {
		t.Errorf("after up with PITR: %+v %+v", hs[0], db)
	}
}

package atlas

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"golang.org/x/sync/errgroup"

	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Status reports the cluster for `nekoctl status`: its state, the region
// holding the highest election priority (where the primary is elected
// while that region is up), and whether cloud backup and point-in-time
// recovery are on, with the restore window and the newest snapshot. It is
// unhealthy when the cluster is not IDLE, is paused, or has backup or PITR
// off while the spec asks for them. Reads: the project, the cluster, then
// the backup schedule and snapshots at once.
func (p *Provider) Status(ctx context.Context) ([]provider.Health, error) {
	if err := p.needClient(); err != nil {
		return nil, err
	}
	a := p.atlas()
	addr := p.addr(KindCluster, a.Cluster.Name)
	gid, err := p.projectID(ctx)
	if isStatus(err, http.StatusNotFound) {
		return []provider.Health{{Address: addr, State: "absent", Detail: "project not found"}}, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := p.getCluster(ctx, gid, a.Cluster.Name)
	if err != nil {
		return nil, fmt.Errorf("reading cluster: %w", err)
	}
	if c == nil {
		return []provider.Health{{Address: addr, State: "absent", Detail: "cluster not found"}}, nil
	}
	db := p.databaseFacts(c)
	if c.GetBackupEnabled() {
		if err := p.backupFacts(ctx, gid, c.GetName(), db); err != nil {
			return nil, err
		}
	}
	state := c.GetStateName()
	if c.GetPaused() {
		state += " (paused)"
	}
	h := provider.Health{Address: addr, State: state, Healthy: c.GetStateName() == "IDLE" && !c.GetPaused(),
		Facts: provider.Facts{Database: db}}
	t := liveTopology(c)
	details := []string{fmt.Sprintf("MongoDB %s, %d electable nodes in %d regions", c.GetMongoDBVersion(), t.electable(), len(t))}
	if problems := p.backupProblems(db); len(problems) > 0 {
		h.Healthy = false
		details = append(details, problems...)
	}
	h.Detail = strings.Join(details, "; ")
	return []provider.Health{h}, nil
}

// databaseFacts names the electable region of the highest priority as the
// spec names it, and the backup switches.
func (p *Provider) databaseFacts(c *admin.ClusterDescription20240805) *provider.Database {
	db := &provider.Database{BackupEnabled: c.GetBackupEnabled(), PITREnabled: c.GetPitEnabled()}
	best := -1
	for key, r := range liveTopology(c) {
		if r.electable > 0 && (r.priority > best || (r.priority == best && key < db.PrimaryAtlasRegion)) {
			db.PrimaryAtlasRegion, best = key, r.priority
		}
	}
	for _, r := range p.st.Spec.Regions {
		if strings.EqualFold(regionKey(r.Atlas.Provider, r.Atlas.Region), db.PrimaryAtlasRegion) {
			db.PrimaryRegion = r.Name
		}
	}
	return db
}

// backupFacts reads the restore window and the newest completed snapshot.
func (p *Provider) backupFacts(ctx context.Context, gid, cluster string, db *provider.Database) error {
	var g errgroup.Group
	var sched *admin.DiskBackupSnapshotSchedule20240805
	var snaps *admin.PaginatedCloudBackupReplicaSet
	g.Go(func() (err error) {
		sched, _, err = p.client.CloudBackupsApi.GetBackupSchedule(ctx, gid, cluster).Execute()
		if err != nil {
			return fmt.Errorf("reading backup schedule: %w", err)
		}
		return nil
	})
	g.Go(func() (err error) {
		snaps, _, err = p.client.CloudBackupsApi.ListBackupSnapshots(ctx, gid, cluster).Execute()
		if err != nil {
			return fmt.Errorf("listing backup snapshots: %w", err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	if db.PITREnabled {
		db.RestoreWindowDays = sched.GetRestoreWindowDays()
	}
	for _, s := range snaps.GetResults() {
		if s.GetStatus() != "completed" {
			continue
		}
		if t := s.GetCreatedAt(); db.LastSnapshot == nil || t.After(*db.LastSnapshot) {
			t = t.UTC()
			db.LastSnapshot = &t
		}
	}
	return nil
}

// backupProblems are the differences from the spec an on-call engineer
// must know about before needing a restore.
func (p *Provider) backupProblems(db *provider.Database) []string {
	b := p.atlas().Backup
	var out []string
	if on := b.Enabled; on != nil && *on && !db.BackupEnabled {
		out = append(out, "cloud backup is off (the spec turns it on)")
	}
	if w := b.PITRWindowDays; w != nil && *w > 0 && db.BackupEnabled && !db.PITREnabled {
		out = append(out, "point-in-time recovery is off (the spec asks for a window of "+fmt.Sprint(*w)+" days)")
	}
	return out
}

package atlas

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// Restore asks Atlas to restore the stack's cluster: from a snapshot
// (SnapshotID) or to a point in time (At), onto TargetCluster (default: the
// stack's cluster itself) in the stack's project.
type Restore struct {
	SnapshotID    string
	At            time.Time
	TargetCluster string
}

// StartRestore creates the restore job and returns its id. It is the
// first half of `nekoctl restore`; WaitRestore is the second.
func (p *Provider) StartRestore(ctx context.Context, r Restore) (string, error) {
	if err := p.needClient(); err != nil {
		return "", err
	}
	if (r.SnapshotID == "") == r.At.IsZero() {
		return "", fmt.Errorf("a restore needs either a snapshot or a point in time")
	}
	gid, err := p.projectID(ctx)
	if err != nil {
		return "", err
	}
	a := p.atlas()
	target := r.TargetCluster
	if target == "" {
		target = a.Cluster.Name
	}
	job := &admin.DiskBackupSnapshotRestoreJob{TargetClusterName: admin.PtrString(target), TargetGroupId: admin.PtrString(gid)}
	if r.SnapshotID != "" {
		job.DeliveryType, job.SnapshotId = "automated", admin.PtrString(r.SnapshotID)
	} else {
		job.DeliveryType, job.PointInTimeUTCSeconds = "pointInTime", admin.PtrInt(int(r.At.Unix()))
	}
	// A restore job is not safe to repeat: no read-back can tell a lost
	// create from none, so a lost answer is reported, never resent.
	res, _, err := p.client.CloudBackupsApi.CreateBackupRestoreJob(ctx, gid, a.Cluster.Name, job).Execute()
	if err != nil {
		return "", fmt.Errorf("starting the restore of cluster %q onto %q: %w", a.Cluster.Name, target, err)
	}
	return res.GetId(), nil
}

// WaitRestore polls the restore job until it finishes, reporting progress
// on the cluster's address, and fails when Atlas reports it failed,
// cancelled or expired.
func (p *Provider) WaitRestore(ctx context.Context, jobID string) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	a := p.atlas()
	addr := p.addr(KindCluster, a.Cluster.Name)
	return p.wait(ctx, addr, plan.Update, func() (bool, string, error) {
		j, _, err := p.client.CloudBackupsApi.GetBackupRestoreJob(ctx, gid, a.Cluster.Name, jobID).Execute()
		switch {
		case err != nil:
			return false, "", err
		case j.GetFailed():
			return false, "", fmt.Errorf("restore job %s failed", jobID)
		case j.GetCancelled():
			return false, "", fmt.Errorf("restore job %s was cancelled", jobID)
		case j.GetExpired():
			return false, "", fmt.Errorf("restore job %s expired", jobID)
		case j.GetFinishedAt().IsZero():
			return false, "restore running", nil
		}
		return true, "restored", nil
	}, "restored")
}

// RestartPrimaries starts Atlas's failover test on the stack's cluster
// (the primary steps down and another node is elected) and waits until the
// cluster is IDLE again. It is the database half of a region-loss drill.
func (p *Provider) RestartPrimaries(ctx context.Context) error {
	if err := p.needClient(); err != nil {
		return err
	}
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	a := p.atlas()
	addr := p.addr(KindCluster, a.Cluster.Name)
	if _, err := p.client.ClustersApi.RestartPrimaries(ctx, gid, a.Cluster.Name).Execute(); err != nil {
		return fmt.Errorf("starting the failover test of cluster %q: %w", a.Cluster.Name, err)
	}
	p.emit(event.Event{Type: event.Progress, Address: addr, Action: plan.Update, Message: "failover test started: the primary steps down"})
	return p.waitIdle(ctx, addr, plan.Update, gid, a.Cluster.Name)
}

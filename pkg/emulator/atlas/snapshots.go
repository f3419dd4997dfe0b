package atlas

import (
	"fmt"
	"net/http"
	"time"
)

// Snapshot is a DiskBackupReplicaSet document.
type Snapshot struct {
	ID             string `json:"id"`
	CloudProvider  string `json:"cloudProvider,omitempty"`
	CreatedAt      string `json:"createdAt"`
	ExpiresAt      string `json:"expiresAt,omitempty"`
	FrequencyType  string `json:"frequencyType,omitempty"`
	MongodVersion  string `json:"mongodVersion,omitempty"`
	ReplicaSetName string `json:"replicaSetName"`
	SnapshotType   string `json:"snapshotType"`
	Status         string `json:"status"`
	Type           string `json:"type"`
	Links          []any  `json:"links"`
}

// RestoreJob is a DiskBackupSnapshotRestoreJob document.
type RestoreJob struct {
	ID                    string `json:"id,omitempty"`
	DeliveryType          string `json:"deliveryType"`
	SnapshotID            string `json:"snapshotId,omitempty"`
	PointInTimeUTCSeconds *int64 `json:"pointInTimeUTCSeconds,omitempty"`
	OplogTs               *int64 `json:"oplogTs,omitempty"`
	OplogInc              *int64 `json:"oplogInc,omitempty"`
	TargetClusterName     string `json:"targetClusterName,omitempty"`
	TargetGroupID         string `json:"targetGroupId,omitempty"`
	Timestamp             string `json:"timestamp,omitempty"`
	Cancelled             bool   `json:"cancelled"`
	Expired               bool   `json:"expired"`
	Failed                bool   `json:"failed"`
	FinishedAt            string `json:"finishedAt,omitempty"`
	Links                 []any  `json:"links"`
	done                  time.Time
}

// snapshot records a completed snapshot of c. Caller holds s.mu.
func (s *Server) snapshot(c *cluster, kind string) string {
	now := s.now().UTC()
	provider := ""
	if rs := c.doc.ReplicationSpecs; rs != nil && len(*rs) > 0 && len((*rs)[0].RegionConfigs) > 0 {
		provider = (*rs)[0].RegionConfigs[0].ProviderName
	}
	snap := Snapshot{ID: randomHex(12), CloudProvider: provider, CreatedAt: now.Format(time.RFC3339),
		ExpiresAt: now.AddDate(0, 0, 7).Format(time.RFC3339), FrequencyType: "hourly", MongodVersion: c.doc.MongoDBVersion,
		ReplicaSetName: c.doc.Name, SnapshotType: kind, Status: "completed", Type: "replicaSet", Links: []any{}}
	c.snapshots = append(c.snapshots, snap)
	return snap.ID
}

// TakeSnapshot takes an on-demand snapshot of a cluster and returns its id.
func (s *Server) TakeSnapshot(groupID, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[groupID]
	if p == nil || p.clusters[name] == nil {
		return "", fmt.Errorf("no cluster %s in %s", name, groupID)
	}
	if !on(p.clusters[name].doc.BackupEnabled) {
		return "", fmt.Errorf("cluster %s has no cloud backup", name)
	}
	return s.snapshot(p.clusters[name], "onDemand"), nil
}

// Snapshots returns how many snapshots a cluster has, and how many a
// delete with retainBackups kept for a cluster of that name.
func (s *Server) Snapshots(groupID, name string) (live, retained int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	if p := s.projects[groupID]; p != nil {
		if c := p.clusters[name]; c != nil {
			live = len(c.snapshots)
		}
		retained = len(p.retained[name])
	}
	return live, retained
}

// PrimaryRestarts is how many failover tests a cluster has been through.
func (s *Server) PrimaryRestarts(groupID, name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil && p.clusters[name] != nil {
		return p.clusters[name].primaryRestarts
	}
	return 0
}

func (s *Server) listSnapshots(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	return http.StatusOK, paginated(c.snapshots)
}

// restartPrimaries starts a failover test: Atlas refuses it unless the
// cluster is IDLE and running.
func (s *Server) restartPrimaries(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if on(c.doc.Paused) {
		return conflict("CANNOT_UPDATE_PAUSED_CLUSTER", fmt.Sprintf("Cluster %s is paused.", c.doc.Name), c.doc.Name)
	}
	if c.doc.StateName != StateIdle {
		return conflict("CLUSTER_RESTART_INVALID", fmt.Sprintf("Cluster %s is %s; a failover test needs it IDLE.", c.doc.Name, c.doc.StateName), c.doc.Name)
	}
	c.primaryRestarts++
	// The primary steps down and another electable node is elected until
	// the test ends and the highest priority takes it back.
	c.primary = electedPrimary(&c.doc, s.primaryOf(c))
	c.doc.StateName, c.until = StateUpdating, s.now().Add(s.opts.UpdateDuration)
	return http.StatusOK, map[string]any{}
}

func (s *Server) restoreView(j *RestoreJob) RestoreJob {
	v := *j
	if !s.now().Before(j.done) {
		v.FinishedAt = j.done.UTC().Format(time.RFC3339)
	}
	return v
}

func (s *Server) listRestoreJobs(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	out := make([]RestoreJob, 0, len(c.restores))
	for _, j := range c.restores {
		out = append(out, s.restoreView(j))
	}
	return http.StatusOK, paginated(out)
}

func (s *Server) getRestoreJob(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	id := r.PathValue("restoreJobId")
	for _, j := range c.restores {
		if j.ID == id {
			return http.StatusOK, s.restoreView(j)
		}
	}
	return notFound("RESTORE_JOB_NOT_FOUND", fmt.Sprintf("No restore job with ID %s exists.", id), id)
}

// createRestoreJob validates a restore as Atlas does: automated (a
// snapshot of this cluster) or pointInTime (continuous backup on, one
// point inside the restore window) onto an existing target cluster. The
// job finishes after UpdateDuration.
func (s *Server) createRestoreJob(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	var j RestoreJob
	if err := decode(r, &j); err != nil {
		return invalidJSON(err)
	}
	if !on(c.doc.BackupEnabled) {
		return badRequest("BACKUP_CONFIG_NOT_FOUND", "Cloud backup is not enabled for this cluster.", c.doc.Name)
	}
	switch j.DeliveryType {
	case "automated", "download":
		if j.PointInTimeUTCSeconds != nil || j.OplogTs != nil || j.OplogInc != nil {
			return badRequest("INVALID_ATTRIBUTE", "A snapshot restore takes snapshotId, not a point in time.", "pointInTimeUTCSeconds")
		}
		found := false
		for _, sn := range c.snapshots {
			found = found || sn.ID == j.SnapshotID
		}
		if !found {
			return notFound("SNAPSHOT_NOT_FOUND", fmt.Sprintf("No snapshot with ID %s exists for cluster %s.", j.SnapshotID, c.doc.Name), j.SnapshotID)
		}
	case "pointInTime":
		if st, body := s.checkPointInTime(c, &j); st != 0 {
			return st, body
		}
	default:
		return badRequest("INVALID_ENUM_VALUE", fmt.Sprintf("Invalid deliveryType %q: automated, download or pointInTime.", j.DeliveryType), "deliveryType")
	}
	if j.DeliveryType != "download" {
		if j.TargetClusterName == "" || j.TargetGroupID == "" {
			return badRequest("MISSING_ATTRIBUTE", "targetClusterName and targetGroupId are required.", "targetClusterName")
		}
		tp := s.projects[j.TargetGroupID]
		if tp == nil {
			return notFound("GROUP_NOT_FOUND", fmt.Sprintf("No group with ID %s exists.", j.TargetGroupID), j.TargetGroupID)
		}
		t := tp.clusters[j.TargetClusterName]
		if t == nil || t.doc.StateName == StateDeleting {
			return notFound("CLUSTER_NOT_FOUND", fmt.Sprintf("No cluster named %s exists in group %s.", j.TargetClusterName, tp.ID), j.TargetClusterName, tp.ID)
		}
	}
	j.ID, j.Links, j.Timestamp = s.newID(), []any{}, s.now().UTC().Format(time.RFC3339)
	j.Cancelled, j.Expired, j.Failed, j.FinishedAt = false, false, false, ""
	j.done = s.now().Add(s.opts.UpdateDuration)
	c.restores = append(c.restores, &j)
	return http.StatusOK, s.restoreView(&j)
}

func (s *Server) checkPointInTime(c *cluster, j *RestoreJob) (int, any) {
	if !on(c.doc.PitEnabled) {
		return badRequest("PIT_NOT_ENABLED", "Continuous Cloud Backup is not enabled for this cluster.", c.doc.Name)
	}
	if j.SnapshotID != "" {
		return badRequest("INVALID_ATTRIBUTE", "A point-in-time restore takes no snapshotId.", "snapshotId")
	}
	byTime, byOplog := j.PointInTimeUTCSeconds != nil, j.OplogTs != nil || j.OplogInc != nil
	if byTime == byOplog || (byOplog && (j.OplogTs == nil || j.OplogInc == nil)) {
		return badRequest("INVALID_ATTRIBUTE", "Give pointInTimeUTCSeconds, or oplogTs with oplogInc.", "pointInTimeUTCSeconds")
	}
	sec := j.OplogTs
	if byTime {
		sec = j.PointInTimeUTCSeconds
	}
	at := time.Unix(*sec, 0)
	window := 2
	if c.schedule != nil && c.schedule.RestoreWindowDays != nil {
		window = *c.schedule.RestoreWindowDays
	}
	now := s.now()
	if at.After(now) || at.Before(now.AddDate(0, 0, -window)) {
		return badRequest("INVALID_RESTORE_POINT_IN_TIME",
			fmt.Sprintf("The point in time %s is outside the restore window of %d days.", at.UTC().Format(time.RFC3339), window))
	}
	return 0, nil
}

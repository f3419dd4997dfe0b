package atlas

import (
	"fmt"
	"net/http"
)

// Schedule is the DiskBackupSnapshotSchedule20240805 document.
type Schedule struct {
	ClusterID             string   `json:"clusterId,omitempty"`
	ClusterName           string   `json:"clusterName,omitempty"`
	Policies              []Policy `json:"policies"`
	ReferenceHourOfDay    *int     `json:"referenceHourOfDay,omitempty"`
	ReferenceMinuteOfHour *int     `json:"referenceMinuteOfHour,omitempty"`
	RestoreWindowDays     *int     `json:"restoreWindowDays,omitempty"`
	AutoExportEnabled     *bool    `json:"autoExportEnabled,omitempty"`
	UseOrgAndGroupNames   *bool    `json:"useOrgAndGroupNamesInExportPrefix,omitempty"`
	Links                 []any    `json:"links,omitempty"`
}

type Policy struct {
	ID          string       `json:"id,omitempty"`
	PolicyItems []PolicyItem `json:"policyItems"`
}

type PolicyItem struct {
	FrequencyInterval int    `json:"frequencyInterval"`
	FrequencyType     string `json:"frequencyType"`
	ID                string `json:"id,omitempty"`
	RetentionUnit     string `json:"retentionUnit"`
	RetentionValue    int    `json:"retentionValue"`
}

// BackupSchedule returns a copy of a cluster's backup schedule.
func (s *Server) BackupSchedule(groupID, cluster string) (Schedule, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil && p.clusters[cluster] != nil && p.clusters[cluster].schedule != nil {
		sc := *p.clusters[cluster].schedule
		sc.Policies = []Policy{{ID: sc.Policies[0].ID, PolicyItems: append([]PolicyItem(nil), sc.Policies[0].PolicyItems...)}}
		return sc, true
	}
	return Schedule{}, false
}

// Backup schedule.

func (s *Server) defaultSchedule(c *Cluster) *Schedule {
	h, w := 6, 6
	two, zero := 2, 0
	return &Schedule{ClusterID: c.ID, ClusterName: c.Name, ReferenceHourOfDay: &h, ReferenceMinuteOfHour: &zero,
		RestoreWindowDays: &two, Links: []any{},
		Policies: []Policy{{ID: randomHex(12), PolicyItems: []PolicyItem{
			{FrequencyInterval: h, FrequencyType: "hourly", ID: randomHex(12), RetentionUnit: "days", RetentionValue: 2},
			{FrequencyInterval: 1, FrequencyType: "daily", ID: randomHex(12), RetentionUnit: "days", RetentionValue: 7},
			{FrequencyInterval: w, FrequencyType: "weekly", ID: randomHex(12), RetentionUnit: "weeks", RetentionValue: 4},
			{FrequencyInterval: 40, FrequencyType: "monthly", ID: randomHex(12), RetentionUnit: "months", RetentionValue: 12},
		}}}}
}

func (s *Server) getSchedule(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if c.schedule == nil {
		return badRequest("BACKUP_CONFIG_NOT_FOUND", "Cloud backup is not enabled for this cluster.", c.doc.Name)
	}
	return http.StatusOK, c.schedule
}

func retentionDays(it PolicyItem) int {
	switch it.RetentionUnit {
	case "weeks":
		return it.RetentionValue * 7
	case "months":
		return it.RetentionValue * 30
	case "years":
		return it.RetentionValue * 365
	}
	return it.RetentionValue
}

func (s *Server) updateSchedule(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if c.schedule == nil {
		return badRequest("BACKUP_CONFIG_NOT_FOUND", "Cloud backup is not enabled for this cluster.", c.doc.Name)
	}
	var req Schedule
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	next := *c.schedule
	if req.Policies != nil {
		if len(req.Policies) != 1 || req.Policies[0].ID != c.schedule.Policies[0].ID {
			return badRequest("INVALID_ATTRIBUTE", "Send back the schedule's one policy with its id.", "policies")
		}
		items := req.Policies[0].PolicyItems
		for i := range items {
			if items[i].ID == "" {
				items[i].ID = randomHex(12)
			}
			if items[i].RetentionValue <= 0 || items[i].FrequencyInterval <= 0 {
				return badRequest("INVALID_ATTRIBUTE", "Policy items need positive intervals and retention.", "policyItems")
			}
		}
		next.Policies = []Policy{{ID: c.schedule.Policies[0].ID, PolicyItems: items}}
	}
	for _, f := range []struct{ dst, src **int }{{&next.ReferenceHourOfDay, &req.ReferenceHourOfDay},
		{&next.ReferenceMinuteOfHour, &req.ReferenceMinuteOfHour}, {&next.RestoreWindowDays, &req.RestoreWindowDays}} {
		if *f.src != nil {
			*f.dst = *f.src
		}
	}
	if next.RestoreWindowDays != nil && on(c.doc.PitEnabled) {
		hourly := 0
		for _, it := range next.Policies[0].PolicyItems {
			if it.FrequencyType == "hourly" {
				hourly = retentionDays(it)
			}
		}
		if *next.RestoreWindowDays > hourly {
			return badRequest("INVALID_RESTORE_WINDOW",
				fmt.Sprintf("restoreWindowDays (%d) cannot exceed the hourly snapshot retention (%d days).", *next.RestoreWindowDays, hourly),
				*next.RestoreWindowDays, hourly)
		}
	}
	c.schedule = &next
	return http.StatusOK, c.schedule
}

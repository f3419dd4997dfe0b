package atlas

import (
	"encoding/json"
	"fmt"
	"time"
)

// SeedCluster stores a cluster directly in IDLE state, validated as a
// create would be. body is a ClusterDescription JSON document.
func (s *Server) SeedCluster(groupID string, body []byte) error {
	var c Cluster
	if err := json.Unmarshal(body, &c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.projects[groupID]
	if p == nil {
		return fmt.Errorf("no project %s", groupID)
	}
	defaults(&c)
	if st, b := validateCluster(&c, true); st != 0 {
		return fmt.Errorf("%d %+v", st, b)
	}
	normalize(&c)
	c.ID, c.GroupID, c.StateName, c.MongoDBVersion = s.newID(), groupID, StateIdle, c.MongoDBMajorVersion+".4"
	c.ConnectionStrings = &ConnectionStrings{StandardSrv: fmt.Sprintf("mongodb+srv://%s.seed.mongodb.net", lower(c.Name))}
	cl := &cluster{doc: c}
	if on(c.BackupEnabled) {
		cl.schedule = s.defaultSchedule(&c)
	}
	p.clusters[c.Name] = cl
	return nil
}

// ClusterState returns a cluster's stateName, advancing time first.
func (s *Server) ClusterState(groupID, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p := s.projects[groupID]
	if p == nil || p.clusters[name] == nil {
		return "", false
	}
	return p.clusters[name].doc.StateName, true
}

// ClusterDoc returns a copy of a cluster's document.
func (s *Server) ClusterDoc(groupID, name string) (Cluster, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p := s.projects[groupID]
	if p == nil || p.clusters[name] == nil {
		return Cluster{}, false
	}
	var out Cluster
	b, _ := json.Marshal(p.clusters[name].doc)
	_ = json.Unmarshal(b, &out)
	return out, true
}

// ClusterNames lists a project's clusters (including those being deleted).
func (s *Server) ClusterNames(groupID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var out []string
	if p := s.projects[groupID]; p != nil {
		for n := range p.clusters {
			out = append(out, n)
		}
	}
	return out
}

// SetPaused pauses or resumes a cluster outside the API.
func (s *Server) SetPaused(groupID, name string, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil && p.clusters[name] != nil {
		p.clusters[name].doc.Paused = &paused
	}
}

// SetClusterState forces a cluster into a state for d (e.g. REPAIRING).
func (s *Server) SetClusterState(groupID, name, state string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.projects[groupID]; p != nil && p.clusters[name] != nil {
		p.clusters[name].doc.StateName, p.clusters[name].until = state, s.now().Add(d)
	}
}

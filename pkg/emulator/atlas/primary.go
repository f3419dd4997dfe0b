package atlas

import "sort"

// electedPrimary returns the region key that an election makes primary:
// the electable region with the highest priority, other than except.
func electedPrimary(c *Cluster, except string) string {
	type cand struct {
		key  string
		prio int
	}
	var cands []cand
	if c.ReplicationSpecs == nil {
		return ""
	}
	for _, rs := range *c.ReplicationSpecs {
		for _, rc := range rs.RegionConfigs {
			key := rc.ProviderName + "/" + rc.RegionName
			if rc.ElectableSpecs.count() == 0 || key == except {
				continue
			}
			p := 0
			if rc.Priority != nil {
				p = *rc.Priority
			}
			cands = append(cands, cand{key, p})
		}
	}
	if len(cands) == 0 {
		return ""
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].prio > cands[j].prio })
	return cands[0].key
}

// primaryOf is the cluster's current primary region; a cluster that has
// never been reconfigured has elected its highest priority. Caller holds s.mu.
func (s *Server) primaryOf(c *cluster) string {
	if c.primary == "" && c.doc.StateName == StateIdle {
		c.primary = electedPrimary(&c.doc, "")
	}
	return c.primary
}

// PrimaryRegion returns the region key ("AWS/EU_WEST_1") whose node is the
// cluster's primary now, advancing time first; "" while none is elected.
func (s *Server) PrimaryRegion(groupID, name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	p := s.projects[groupID]
	if p == nil || p.clusters[name] == nil {
		return ""
	}
	return s.primaryOf(p.clusters[name])
}

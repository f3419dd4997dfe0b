package atlas

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Cluster states as Atlas names them.
const (
	StateCreating = "CREATING"
	StateIdle     = "IDLE"
	StateUpdating = "UPDATING"
	StateDeleting = "DELETING"
)

var clusterNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)

// advance completes transitions whose time has come. Caller holds s.mu.
func (s *Server) advance() {
	now := s.now()
	for _, p := range s.projects {
		for name, c := range p.clusters {
			if c.doc.StateName == StateIdle || now.Before(c.until) {
				continue
			}
			switch c.doc.StateName {
			case StateCreating, StateUpdating, "REPAIRING":
				c.doc.StateName = StateIdle
				// The replica set settles: the highest-priority electable
				// region holds the primary again.
				c.primary = electedPrimary(&c.doc, "")
			case StateDeleting:
				delete(p.clusters, name)
			}
		}
	}
}

func (s *Server) listClusters(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var out []Cluster
	for _, c := range p.clusters {
		out = append(out, c.doc)
	}
	return http.StatusOK, paginated(out)
}

func (s *Server) createCluster(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return st, body
	}
	var c Cluster
	if err := decode(r, &c); err != nil {
		return invalidJSON(err)
	}
	if !clusterNameRE.MatchString(c.Name) || len(c.Name) > 64 {
		return badRequest("CLUSTER_NAME_INVALID", fmt.Sprintf("The cluster name %q is invalid.", c.Name), c.Name)
	}
	if _, dup := p.clusters[c.Name]; dup {
		return badRequest("DUPLICATE_CLUSTER_NAME",
			fmt.Sprintf("A cluster named %s is already present in group %s.", c.Name, p.ID), c.Name, p.ID)
	}
	if len(p.clusters) >= 25 {
		return badRequest("CLUSTER_LIMIT_EXCEEDED", "A project holds at most 25 clusters.")
	}
	if c.GroupID != "" && c.GroupID != p.ID {
		return badRequest("INVALID_ATTRIBUTE", "Invalid attribute groupId specified.", "groupId")
	}
	defaults(&c)
	if st, body := validateCluster(&c, true); st != 0 {
		return st, body
	}
	normalize(&c)
	host := randomHex(3)
	c.ID, c.GroupID, c.StateName = s.newID(), p.ID, StateCreating
	c.CreateDate = s.now().UTC().Format(time.RFC3339)
	c.MongoDBVersion = c.MongoDBMajorVersion + ".4"
	c.ConnectionStrings = &ConnectionStrings{
		StandardSrv: fmt.Sprintf("mongodb+srv://%s.%s.mongodb.net", lower(c.Name), host),
		Standard:    fmt.Sprintf("mongodb://%s-shard-00-00.%s.mongodb.net:27017/?ssl=true&authSource=admin", lower(c.Name), host),
	}
	cl := &cluster{doc: c, until: s.now().Add(s.opts.CreateDuration)}
	if on(c.BackupEnabled) {
		cl.schedule = s.defaultSchedule(&c)
		s.snapshot(cl, "onDemand") // Atlas takes a first snapshot of a new cluster
	}
	p.clusters[c.Name] = cl
	return http.StatusCreated, c
}

func (s *Server) getCluster(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	return http.StatusOK, c.doc
}

func (s *Server) clusterStatus(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	cs := "APPLIED"
	if c.doc.StateName != StateIdle {
		cs = "PENDING"
	}
	return http.StatusOK, map[string]any{"changeStatus": cs, "links": []any{}}
}

func (s *Server) updateCluster(_ http.ResponseWriter, r *http.Request) (int, any) {
	_, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	var req Cluster
	if err := decode(r, &req); err != nil {
		return invalidJSON(err)
	}
	if on(c.doc.Paused) && (req.Paused == nil || *req.Paused) {
		return conflict("CANNOT_UPDATE_PAUSED_CLUSTER",
			fmt.Sprintf("Cannot update cluster %s while it is paused or being paused.", c.doc.Name), c.doc.Name)
	}
	if c.doc.StateName == StateDeleting {
		return badRequest("CLUSTER_ALREADY_REQUESTED_DELETION", "The cluster is being deleted.", c.doc.Name)
	}
	if req.Name != "" && req.Name != c.doc.Name {
		return badRequest("CANNOT_CHANGE_CLUSTER_NAME", "The name of a cluster cannot change.", "name")
	}
	if req.GroupID != "" && req.GroupID != c.doc.GroupID {
		return badRequest("INVALID_ATTRIBUTE", "Invalid attribute groupId specified.", "groupId")
	}
	next := c.doc
	reconfigure := false
	if req.ReplicationSpecs != nil {
		if err := keepsMajority(c.doc.ReplicationSpecs, req.ReplicationSpecs); err != "" {
			return badRequest("VALIDATION_ERROR", err)
		}
		specs := *req.ReplicationSpecs
		next.ReplicationSpecs = &specs
		reconfigure = true
	}
	if req.MongoDBMajorVersion != "" && req.MongoDBMajorVersion != c.doc.MongoDBMajorVersion {
		if msg := versionStep(c.doc.MongoDBMajorVersion, req.MongoDBMajorVersion); msg != "" {
			return badRequest("INVALID_VERSION_CHANGE", msg, req.MongoDBMajorVersion)
		}
		next.MongoDBMajorVersion, next.MongoDBVersion = req.MongoDBMajorVersion, req.MongoDBMajorVersion+".1"
		reconfigure = true
	}
	for _, f := range []struct{ dst, src **bool }{
		{&next.BackupEnabled, &req.BackupEnabled}, {&next.PitEnabled, &req.PitEnabled},
		{&next.Paused, &req.Paused}, {&next.TerminationProtectionEnabled, &req.TerminationProtectionEnabled},
	} {
		if *f.src != nil {
			if on(*f.dst) != on(*f.src) {
				reconfigure = reconfigure || f.dst != &next.TerminationProtectionEnabled
			}
			*f.dst = *f.src
		}
	}
	if req.Tags != nil {
		tags := *req.Tags
		next.Tags = &tags
	}
	if st, body := validateCluster(&next, req.ReplicationSpecs != nil); st != 0 {
		return st, body
	}
	normalize(&next)
	c.doc = next
	if reconfigure {
		c.doc.StateName, c.until = StateUpdating, s.now().Add(s.opts.UpdateDuration)
	}
	if on(c.doc.BackupEnabled) && c.schedule == nil {
		c.schedule = s.defaultSchedule(&c.doc)
	}
	if !on(c.doc.BackupEnabled) {
		c.schedule = nil
	}
	return http.StatusOK, c.doc
}

func (s *Server) deleteCluster(_ http.ResponseWriter, r *http.Request) (int, any) {
	p, c, st, body := s.cluster(r)
	if c == nil {
		return st, body
	}
	if on(c.doc.TerminationProtectionEnabled) {
		return badRequest("CANNOT_TERMINATE_CLUSTER_WHEN_TERMINATION_PROTECTION_ENABLED",
			fmt.Sprintf("Unable to delete cluster %s: termination protection is enabled.", c.doc.Name), c.doc.Name)
	}
	if c.doc.StateName == StateDeleting {
		return badRequest("CLUSTER_ALREADY_REQUESTED_DELETION", "The cluster is already being deleted.", c.doc.Name)
	}
	retain := false
	if v := r.URL.Query().Get("retainBackups"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("INVALID_QUERY_PARAMETER", fmt.Sprintf("Invalid value %q for retainBackups.", v), "retainBackups")
		}
		retain = b
	}
	if retain && len(c.snapshots) > 0 {
		p.retained[c.doc.Name] = append(p.retained[c.doc.Name], c.snapshots...)
	}
	c.snapshots = nil
	c.doc.StateName, c.until = StateDeleting, s.now().Add(s.opts.DeleteDuration)
	return http.StatusAccepted, nil
}

func defaults(c *Cluster) {
	if c.ClusterType == "" {
		c.ClusterType = "REPLICASET"
	}
	for _, b := range []**bool{&c.BackupEnabled, &c.PitEnabled, &c.Paused, &c.TerminationProtectionEnabled} {
		if *b == nil {
			f := false
			*b = &f
		}
	}
	if c.MongoDBMajorVersion == "" {
		c.MongoDBMajorVersion = "8.0"
	}
	if c.VersionReleaseSystem == "" {
		c.VersionReleaseSystem = "LTS"
	}
	if c.Tags == nil {
		c.Tags = &[]Tag{}
	}
	if c.ReplicationSpecs == nil {
		return
	}
	for i := range *c.ReplicationSpecs {
		for j := range (*c.ReplicationSpecs)[i].RegionConfigs {
			rc := &(*c.ReplicationSpecs)[i].RegionConfigs[j]
			// New clusters get disk autoscaling unless the request says otherwise.
			if rc.AutoScaling == nil {
				t, f := true, false
				rc.AutoScaling = &AutoScaling{Compute: &ComputeAutoScaling{Enabled: &f, ScaleDownEnabled: &f},
					DiskGB: &DiskAutoScaling{Enabled: &t}}
			}
		}
	}
}

// normalize gives every region config all three node types (absent ones
// with nodeCount 0), one instance size, disk sizes, and effective specs,
// the way Atlas answers.
func normalize(c *Cluster) {
	for i := range *c.ReplicationSpecs {
		rs := &(*c.ReplicationSpecs)[i]
		if rs.ID == "" {
			rs.ID, rs.ZoneID, rs.ZoneName = randomHex(12), randomHex(12), "Zone 1"
		}
		for j := range rs.RegionConfigs {
			rc := &rs.RegionConfigs[j]
			size, disk := "", float64(0)
			for _, h := range []*HWSpec{rc.ElectableSpecs, rc.ReadOnlySpecs} {
				if h != nil && h.InstanceSize != "" && size == "" {
					size = h.InstanceSize
				}
				if h != nil && h.DiskSizeGB != nil && disk == 0 {
					disk = *h.DiskSizeGB
				}
			}
			if disk == 0 {
				disk = float64(defaultDisk(size))
			}
			fill := func(h **HWSpec) {
				if *h == nil {
					*h = &HWSpec{}
				}
				if (*h).NodeCount == nil {
					zero := 0
					(*h).NodeCount = &zero
				}
				if (*h).InstanceSize == "" {
					(*h).InstanceSize = size
				}
				if (*h).DiskSizeGB == nil {
					d := disk
					(*h).DiskSizeGB = &d
				}
				if rc.ProviderName == "AWS" && (*h).EbsVolumeType == "" {
					(*h).EbsVolumeType = "STANDARD"
				}
			}
			fill(&rc.ElectableSpecs)
			fill(&rc.ReadOnlySpecs)
			fill(&rc.AnalyticsSpecs)
			if rc.Priority == nil {
				zero := 0
				rc.Priority = &zero
			}
			e, ro, an := *rc.ElectableSpecs, *rc.ReadOnlySpecs, *rc.AnalyticsSpecs
			rc.EffectiveElectableSpecs, rc.EffectiveReadOnlySpecs, rc.EffectiveAnalyticsSpec = &e, &ro, &an
		}
		// Atlas answers with region configs in its own order, not the request's.
		sort.SliceStable(rs.RegionConfigs, func(i, j int) bool {
			a, b := rs.RegionConfigs[i], rs.RegionConfigs[j]
			return a.ProviderName+"/"+a.RegionName < b.ProviderName+"/"+b.RegionName
		})
	}
}

// keepsMajority refuses a topology change that would leave fewer than a
// majority of the current electable nodes in place.
func keepsMajority(before, after *[]ReplicationSpec) string {
	if before == nil || after == nil || len(*before) == 0 || len(*after) == 0 {
		return ""
	}
	old := map[string]int{}
	total := 0
	for _, rc := range (*before)[0].RegionConfigs {
		n := rc.ElectableSpecs.count()
		old[rc.ProviderName+"/"+rc.RegionName] = n
		total += n
	}
	kept := 0
	for _, rc := range (*after)[0].RegionConfigs {
		kept += min(old[rc.ProviderName+"/"+rc.RegionName], rc.ElectableSpecs.count())
	}
	if total > 0 && kept < total/2+1 {
		return fmt.Sprintf("This change keeps %d of %d electable nodes; a majority must remain. Stage the change.", kept, total)
	}
	return ""
}

func versionStep(from, to string) string {
	order := map[string]int{"6.0": 0, "7.0": 1, "8.0": 2}
	f, okf := order[from]
	t, okt := order[to]
	switch {
	case !okt:
		return fmt.Sprintf("MongoDB version %s is not supported.", to)
	case okf && t < f:
		return "Downgrading the MongoDB major version is not supported."
	case okf && t > f+1:
		return "The MongoDB major version can only be raised one release at a time."
	}
	return ""
}

func on(b *bool) bool { return b != nil && *b }

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// cluster finds the project and cluster of the request's path.
func (s *Server) cluster(r *http.Request) (*project, *cluster, int, any) {
	p, st, body := s.project(r)
	if p == nil {
		return nil, nil, st, body
	}
	name := r.PathValue("clusterName")
	c := p.clusters[name]
	if c == nil {
		st, body := notFound("CLUSTER_NOT_FOUND",
			fmt.Sprintf("No cluster named %s exists in group %s.", name, p.ID), name, p.ID)
		return p, nil, st, body
	}
	return p, c, 0, nil
}

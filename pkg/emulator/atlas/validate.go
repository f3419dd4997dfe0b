package atlas

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/neko-defense/nekoctl/pkg/atlasregions"
)

// Tiers are the dedicated instance sizes, smallest first.
var Tiers = []string{"M10", "M20", "M30", "M40", "M50", "M60", "M80", "M140", "M200", "M300"}

func tierRank(t string) int {
	for i, x := range Tiers {
		if x == t {
			return i
		}
	}
	return -1
}

func defaultDisk(tier string) int {
	switch tier {
	case "M10":
		return 10
	case "M20":
		return 20
	case "M30":
		return 40
	}
	return 80
}

// validateCluster applies Atlas's rules to a full cluster document; it
// returns status 0 when the document is acceptable. ordered checks that the
// region configs are listed by descending priority, as requests must be
// (answers list them in Atlas's own order).
func validateCluster(c *Cluster, ordered bool) (int, any) {
	if c.ClusterType != "REPLICASET" {
		return badRequest("INVALID_ATTRIBUTE", "The emulator serves replica sets only.", "clusterType")
	}
	if on(c.PitEnabled) && !on(c.BackupEnabled) {
		return badRequest("VALIDATION_ERROR", "Continuous Cloud Backup (pitEnabled) requires cloud backup (backupEnabled).")
	}
	if c.ReplicationSpecs == nil || len(*c.ReplicationSpecs) != 1 {
		return badRequest("INVALID_ATTRIBUTE", "A replica set has exactly one replication spec.", "replicationSpecs")
	}
	rcs := (*c.ReplicationSpecs)[0].RegionConfigs
	if len(rcs) == 0 {
		return badRequest("INVALID_ATTRIBUTE", "A replication spec needs at least one region config.", "regionConfigs")
	}
	seen := map[string]bool{}
	electable, size, disk := 0, "", float64(0)
	lastPriority := 8
	var priorities []int
	for _, rc := range rcs {
		if !atlasregions.Known(rc.ProviderName) {
			return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Invalid providerName %q.", rc.ProviderName), "providerName")
		}
		if !atlasregions.Valid(rc.ProviderName, rc.RegionName) {
			return badRequest("INVALID_REGION",
				fmt.Sprintf("No region %s exists for provider %s.", rc.RegionName, rc.ProviderName), rc.RegionName, rc.ProviderName)
		}
		key := rc.ProviderName + "/" + rc.RegionName
		if seen[key] {
			return badRequest("DUPLICATE_REGION_CONFIG", fmt.Sprintf("Region %s appears more than once.", key), key)
		}
		seen[key] = true
		e, ro, an := rc.ElectableSpecs.count(), rc.ReadOnlySpecs.count(), rc.AnalyticsSpecs.count()
		if e < 0 || ro < 0 || an < 0 {
			return badRequest("INVALID_ATTRIBUTE", "nodeCount cannot be negative.", "nodeCount")
		}
		if e+ro+an == 0 {
			return badRequest("VALIDATION_ERROR", fmt.Sprintf("Region %s has no nodes.", key), key)
		}
		electable += e
		p := 0
		if rc.Priority != nil {
			p = *rc.Priority
		}
		if e > 0 {
			if p < 1 || p > 7 || (ordered && p >= lastPriority) {
				return badRequest("INVALID_ATTRIBUTE",
					fmt.Sprintf("Region %s: electable regions need priorities from 7 down to 1, each lower than the one before (got %d).", key, p), "priority")
			}
			lastPriority = p
			priorities = append(priorities, p)
		} else if p != 0 {
			return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Region %s has no electable nodes: its priority must be 0.", key), "priority")
		}
		for _, h := range []*HWSpec{rc.ElectableSpecs, rc.ReadOnlySpecs} {
			if h == nil || (h.count() == 0 && h.InstanceSize == "") {
				continue
			}
			if size == "" {
				size = h.InstanceSize
			} else if h.InstanceSize != "" && h.InstanceSize != size {
				return badRequest("INVALID_ATTRIBUTE",
					"Electable and read-only nodes must share one instanceSize.", "instanceSize")
			}
			if h.DiskSizeGB != nil {
				if disk == 0 {
					disk = *h.DiskSizeGB
				} else if *h.DiskSizeGB != disk {
					return badRequest("INVALID_ATTRIBUTE", "diskSizeGB must be equal across node types.", "diskSizeGB")
				}
			}
		}
		if st, body := validateAutoScaling(rc.AutoScaling); st != 0 {
			return st, body
		}
	}
	if electable != 3 && electable != 5 && electable != 7 {
		return badRequest("INVALID_ATTRIBUTE",
			fmt.Sprintf("A replica set needs 3, 5 or 7 electable nodes; this one has %d.", electable), "electableSpecs.nodeCount")
	}
	sort.Sort(sort.Reverse(sort.IntSlice(priorities)))
	for i := 1; i < len(priorities); i++ {
		if priorities[i] == priorities[i-1] {
			return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Two regions have priority %d.", priorities[i]), "priority")
		}
	}
	if len(priorities) > 0 && priorities[0] != 7 {
		return badRequest("INVALID_ATTRIBUTE", "The highest priority region must have priority 7.", "priority")
	}
	if tierRank(size) < 0 {
		if len(rcs) > 1 {
			return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Multi-region clusters need M10 or larger, not %q.", size), "instanceSize")
		}
		return badRequest("INVALID_ATTRIBUTE", fmt.Sprintf("Invalid instanceSize %q.", size), "instanceSize")
	}
	if c.MongoDBMajorVersion != "" && versionStep("", c.MongoDBMajorVersion) != "" {
		return badRequest("INVALID_ATTRIBUTE", versionStep("", c.MongoDBMajorVersion), "mongoDBMajorVersion")
	}
	return 0, nil
}

func validateAutoScaling(a *AutoScaling) (int, any) {
	if a == nil || a.Compute == nil || !on(a.Compute.Enabled) {
		return 0, nil
	}
	lo, hi := tierRank(a.Compute.MinInstanceSize), tierRank(a.Compute.MaxInstanceSize)
	if hi < 0 || (on(a.Compute.ScaleDownEnabled) && lo < 0) || (lo >= 0 && lo > hi) {
		return badRequest("INVALID_ATTRIBUTE", "Compute autoscaling needs valid minInstanceSize <= maxInstanceSize.", "autoScaling")
	}
	return 0, nil
}

// defaultRegion is each provider's default, as the API documents it.
var defaultRegion = map[string]string{"AWS": "US_EAST_1", "GCP": "CENTRAL_US", "AZURE": "US_WEST_2"}

// providerRegions answers GET .../clusters/provider/regions?providers=&tier=.
func (s *Server) providerRegions(_ http.ResponseWriter, r *http.Request) (int, any) {
	if p, st, body := s.project(r); p == nil {
		return st, body
	}
	q := r.URL.Query()
	providers := q["providers"]
	if len(providers) == 0 {
		providers = atlasregions.Providers
	}
	tiers := Tiers
	if t := q.Get("tier"); t != "" {
		tiers = []string{t}
	}
	type region struct {
		Default bool   `json:"default"`
		Name    string `json:"name"`
	}
	type size struct {
		AvailableRegions []region `json:"availableRegions"`
		Name             string   `json:"name"`
	}
	type prov struct {
		InstanceSizes []size `json:"instanceSizes"`
		Provider      string `json:"provider"`
	}
	var out []prov
	for _, p := range providers {
		var sizes []size
		for _, t := range tiers {
			var rs []region
			for _, name := range atlasregions.Names(p) {
				rs = append(rs, region{Default: name == defaultRegion[p], Name: name})
			}
			sizes = append(sizes, size{AvailableRegions: rs, Name: t})
		}
		out = append(out, prov{InstanceSizes: sizes, Provider: p})
	}
	return http.StatusOK, paginated(out)
}

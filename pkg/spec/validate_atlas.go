package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/atlasregions"
)

var (
	orgIDRE       = regexp.MustCompile(`^[0-9a-f]{24}$`)
	clusterNameRE = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)
	tierRE        = regexp.MustCompile(`^M(10|20|30|40|50|60|80|140|200|300|400|700)$`)
	mongoVersions = []string{"7.0", "8.0"}
)

func (v *validator) atlas() {
	a := &v.st.Spec.Atlas
	const p = "spec.atlas"
	if u, err := url.Parse(a.BaseURL); err != nil || u.Host == "" || (u.Scheme != "https" && !isLoopback(u.Hostname())) {
		v.errorf(p+".baseURL", "%q must be an https URL (http only for a local emulator)", a.BaseURL)
	}
	if !orgIDRE.MatchString(a.OrgID) {
		v.errorf(p+".orgID", "%q is not an Atlas organization ID (24 hexadecimal characters)", a.OrgID)
	}
	if a.Project == "" || len(a.Project) > 64 {
		v.errorf(p+".project", "is required, at most 64 characters")
	}
	c := &a.Cluster
	if !clusterNameRE.MatchString(c.Name) || len(c.Name) > 64 {
		v.errorf(p+".cluster.name", "%q must start with a letter or digit and hold only letters, digits and '-'", c.Name)
	}
	if !tierRE.MatchString(c.Tier) {
		v.errorf(p+".cluster.tier", "%q is not a dedicated tier (M10, M20, M30, ...); multi-region clusters need M10 or higher", c.Tier)
	}
	if !slices.Contains(mongoVersions, c.MongoVersion) {
		v.errorf(p+".cluster.mongoDBVersion", "%q must be one of %s", c.MongoVersion, strings.Join(mongoVersions, ", "))
	}
	if as := c.Autoscaling; as != nil && as.Compute {
		for _, t := range []struct{ f, v string }{{"minTier", as.MinTier}, {"maxTier", as.MaxTier}} {
			if !tierRE.MatchString(t.v) {
				v.errorf(p+".cluster.autoscaling."+t.f, "%q is not a dedicated tier; compute autoscaling needs both bounds", t.v)
			}
		}
		if tierRE.MatchString(as.MinTier) && tierRE.MatchString(as.MaxTier) && tierSize(as.MinTier) > tierSize(as.MaxTier) {
			v.errorf(p+".cluster.autoscaling.maxTier", "%s is below minTier %s", as.MaxTier, as.MinTier)
		}
	}
	if c.DiskSizeGB < 0 || c.DiskSizeGB > 4096 {
		v.errorf(p+".cluster.diskSizeGB", "must be 0 (tier default) to 4096, found %d", c.DiskSizeGB)
	}
	if w := *a.Backup.PITRWindowDays; w < 0 || w > 35 {
		v.errorf(p+".backup.pitrWindowDays", "must be 0-35 days, found %d", w)
	} else if w > 0 && !On(a.Backup.Enabled) {
		v.errorf(p+".backup.pitrWindowDays", "point-in-time recovery needs backup.enabled: true")
	}
	if !clusterNameRE.MatchString(a.User) {
		v.errorf(p+".user", "%q must hold only letters, digits and '-'", a.User)
	}
	if a.Database == "" || strings.ContainsAny(a.Database, "/\\. \"$") || len(a.Database) > 63 {
		v.errorf(p+".database", "%q is not a valid MongoDB database name", a.Database)
	}
	v.atlasLayout()
}

// atlasLayout checks the replica set the regions describe, the way Atlas
// does, and explains what failures the layout survives.
func (v *validator) atlasLayout() {
	s := &v.st.Spec
	electable, electableRegions := 0, 0
	pairs := map[string]string{}
	prio := s.AtlasPriorities()
	used := map[int]string{}
	for i := range s.Regions {
		r := &s.Regions[i]
		p := fmt.Sprintf("spec.regions[%d].atlas", i)
		if r.Atlas.Region == "" {
			v.errorf(p+".region", "is required (Atlas region name, e.g. US_EAST_1)")
		} else if !atlasregions.Known(r.Atlas.Provider) {
			v.errorf(p+".provider", "%q must be AWS, GCP or AZURE", r.Atlas.Provider)
		} else if !atlasregions.Valid(r.Atlas.Provider, r.Atlas.Region) {
			v.errorf(p+".region", "%q is not an Atlas %s region%s", r.Atlas.Region, r.Atlas.Provider, regionHint(r.Atlas.Provider, r.Atlas.Region))
		} else {
			v.cloudPairing(i, r)
		}
		key := r.Atlas.Provider + "/" + r.Atlas.Region
		if other, dup := pairs[key]; dup && r.Atlas.Region != "" {
			v.errorf(p+".region", "%s %s is already used by region %q; Atlas allows each provider region once", r.Atlas.Provider, r.Atlas.Region, other)
		}
		pairs[key] = r.Name
		n := *r.Atlas.ElectableNodes
		if n < 0 || r.Atlas.ReadOnlyNodes < 0 {
			v.errorf(p, "node counts cannot be negative")
		}
		if n == 0 && r.Atlas.ReadOnlyNodes == 0 {
			v.errorf(p+".electableNodes", "region has neither electable nor read-only nodes")
		}
		if r.Primary && n == 0 {
			v.errorf(p+".electableNodes", "the primary region needs electable nodes")
		}
		if n > 0 {
			electable += n
			electableRegions++
			pr := prio[r.Name]
			if pr < 1 || pr > 7 {
				v.errorf(p+".priority", "election priority must be 1-7, found %d", pr)
			} else if other, dup := used[pr]; dup {
				v.errorf(p+".priority", "priority %d is already given to region %q; each electable region needs its own", pr, other)
			}
			used[pr] = r.Name
		} else if r.Atlas.Priority != 0 {
			v.errorf(p+".priority", "a region without electable nodes has priority 0")
		}
	}
	if primary := s.PrimaryRegion(); primary != nil {
		for _, r := range s.Regions {
			if r.Name != primary.Name && prio[r.Name] > prio[primary.Name] {
				v.errorf("spec.regions", "region %q has a higher election priority than the primary region %q", r.Name, primary.Name)
			}
		}
	}
	if electable != 3 && electable != 5 && electable != 7 {
		v.errorf("spec.regions", "Atlas needs 3, 5 or 7 electable nodes in all; the regions declare %d", electable)
		return
	}
	majority := electable/2 + 1
	largest := 0
	for _, r := range s.Regions {
		largest = max(largest, *r.Atlas.ElectableNodes)
	}
	if electable-largest >= majority {
		v.infof("spec.regions", "Atlas layout: %d electable nodes across %d regions; losing any one region keeps a majority, so a new primary is elected automatically", electable, electableRegions)
	} else {
		v.infof("spec.regions", "Atlas layout: %d electable nodes, %d in one region; the cluster survives a zone failure but not the loss of that region (writes stop until it returns)", electable, largest)
	}
}

func tierSize(t string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(t, "M"))
	return n
}

// regionHint suggests the Atlas name of a provider region id written in
// its place, or the Atlas way of writing names.
func regionHint(provider, r string) string {
	if name, ok := atlasregions.AtlasName(provider, r); ok {
		return fmt.Sprintf(" (Atlas names %s %s)", r, name)
	}
	if strings.Contains(r, "-") || strings.ToUpper(r) != r {
		return fmt.Sprintf(" (Atlas writes regions like %s)", strings.ToUpper(strings.ReplaceAll(r, "-", "_")))
	}
	return ""
}

// cloudRegion checks the region's cloud.region against its provider's
// region ids.
func (v *validator) cloudRegion(p string, r *Region) {
	provider := strings.ToUpper(r.Cloud.Provider)
	if !atlasregions.Known(provider) || r.Cloud.Region == "" {
		return
	}
	if _, ok := atlasregions.AtlasName(provider, r.Cloud.Region); !ok {
		hint := ""
		if cloud, ok := atlasregions.CloudRegion(provider, r.Cloud.Region); ok {
			hint = fmt.Sprintf(" (%s is the Atlas name of %s)", r.Cloud.Region, cloud)
		} else if owner := regionOwner(r.Cloud.Region); owner != "" {
			hint = fmt.Sprintf(" (it is a region of %s)", owner)
		}
		v.errorf(p+".cloud.region", "%q is not a %s region%s", r.Cloud.Region, r.Cloud.Provider, hint)
	}
}

// regionOwner names the provider whose region id r is, if any.
func regionOwner(r string) string {
	for _, p := range atlasregions.Providers {
		if _, ok := atlasregions.AtlasName(p, r); ok {
			return p
		}
	}
	return ""
}

// cloudPairing compares a region's Kubernetes location with the Atlas
// region it is paired with: the application reads its nearest node, so a
// pairing across regions or clouds adds latency to every request.
func (v *validator) cloudPairing(i int, r *Region) {
	provider := strings.ToUpper(r.Cloud.Provider)
	if _, ok := atlasregions.AtlasName(provider, r.Cloud.Region); !ok {
		return // reported on cloud.region
	}
	p := fmt.Sprintf("spec.regions[%d].atlas.region", i)
	switch cloud, _ := atlasregions.CloudRegion(r.Atlas.Provider, r.Atlas.Region); {
	case provider != r.Atlas.Provider:
		v.warnf(p, "%s %s is on another cloud than the region's Kubernetes cluster (%s %s): every database call crosses clouds",
			r.Atlas.Provider, r.Atlas.Region, r.Cloud.Provider, r.Cloud.Region)
	case cloud != r.Cloud.Region:
		want, _ := atlasregions.AtlasName(provider, r.Cloud.Region)
		v.warnf(p, "%s is %s, not the Kubernetes cluster's %s: every database call crosses regions (the paired Atlas region is %s)",
			r.Atlas.Region, cloud, r.Cloud.Region, want)
	}
}

func isLoopback(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}

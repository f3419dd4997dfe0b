package atlas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"golang.org/x/sync/errgroup"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

const pageSize = 500

// Read returns the live project, the stack's cluster (and any other
// cluster tagged with the stack), its backup schedule, the stack's database
// users, access-list entries and alert configurations. It costs six API
// calls on an existing stack and two rounds of them: the project by name,
// then its clusters, the backup schedule, users, access list and alert
// configurations at once (see contents).
//
// Ownership: a project or cluster of the spec's name without the stack's
// tags is returned Unowned (a conflict, or an adoption with --adopt), unless
// the project carries the tag an earlier `down` left when it released it.
// Objects in the project that the stack does not own are listed as the
// project's Foreign objects, so that it is kept, never deleted with them.
func (p *Provider) Read(ctx context.Context, _ provider.Outputs) ([]provider.Resource, error) {
	if err := p.needClient(); err != nil {
		return nil, err
	}
	a := p.atlas()
	p.setUserLive(false)
	g, live, err := p.readProject(ctx)
	if err != nil {
		return nil, err
	}
	if g == nil {
		p.setLive(nil)
		return nil, nil
	}
	gid := g.GetId()
	p.setProject(gid)
	projAddr := p.addr(KindProject, a.Project)
	tags := tagDoc(g.GetTags())
	project := provider.Resource{Address: projAddr, ID: gid,
		Doc:     plan.Document{"name": g.GetName(), "orgId": g.GetOrgId(), "tags": tags},
		Unowned: tags[TagStack] != p.st.Metadata.Name && tags[TagReleased] != p.st.Metadata.Name}
	project.Fingerprint = fingerprint("", project.Doc)
	out := []provider.Resource{project}
	var foreign []string

	var mine *admin.ClusterDescription20240805
	for i := range live.clusters {
		c := &live.clusters[i]
		owned := tagDoc(c.GetTags())[TagStack] == p.st.Metadata.Name
		if c.GetName() != a.Cluster.Name && !owned {
			foreign = append(foreign, foreignName(KindCluster, c.GetName()))
			continue
		}
		if c.GetStateName() == "DELETING" {
			continue // going away: planned as absent, create waits for it
		}
		if c.GetName() == a.Cluster.Name {
			mine = c
		}
		if !owned {
			// Its name is the spec's, yet nekoctl did not make it (or not yet
			// adopted it): not the stack's to delete with the project.
			foreign = append(foreign, foreignName(KindCluster, c.GetName()))
		}
		doc := liveClusterDoc(c)
		out = append(out, provider.Resource{Address: p.addr(KindCluster, c.GetName()), ID: c.GetName(), Doc: doc,
			DependsOn: []plan.Address{projAddr}, Protected: p.clusterProtected(c.TerminationProtectionEnabled),
			Unowned: !owned, Fingerprint: fingerprint(c.GetStateName(), doc)})
	}
	p.setLive(mine)
	if mine != nil {
		out[0].Protected = p.clusterProtected(mine.TerminationProtectionEnabled)
		if mine.GetBackupEnabled() {
			if !live.scheduleRead {
				// Backup is on in Atlas and off in the spec: read now.
				live.schedule, _, live.scheduleErr = p.client.CloudBackupsApi.GetBackupSchedule(ctx, gid, mine.GetName()).Execute()
			}
			s, err := live.schedule, live.scheduleErr
			switch {
			case admin.IsErrorCode(err, "BACKUP_CONFIG_NOT_FOUND"):
				// Backup was just turned on: the schedule is planned as a create.
			case err != nil:
				return nil, fmt.Errorf("reading the backup schedule of cluster %q: %w", mine.GetName(), err)
			default:
				doc := plan.Document{"restoreWindowDays": s.GetRestoreWindowDays(), "hourlyRetentionDays": hourlyRetentionDays(s)}
				out = append(out, provider.Resource{Address: p.addr(KindBackupSchedule, mine.GetName()), ID: mine.GetName(),
					Doc: doc, DependsOn: []plan.Address{p.addr(KindCluster, mine.GetName())}, Fingerprint: fingerprint("", doc)})
			}
		}
	}

	userRes, foreignUsers := p.readUsers(live.users, projAddr)
	out = append(out, userRes...)
	foreign = append(foreign, foreignUsers...)

	for _, e := range live.entries {
		if !strings.HasPrefix(e.GetComment(), p.accessPrefix()) || e.GetCidrBlock() == "" {
			foreign = append(foreign, foreignName(KindAccessEntry, accessValue(e)))
			continue
		}
		doc := plan.Document{"cidrBlock": e.GetCidrBlock(), "comment": e.GetComment()}
		out = append(out, provider.Resource{Address: p.addr(KindAccessEntry, e.GetCidrBlock()), ID: e.GetCidrBlock(),
			Doc: doc, DependsOn: []plan.Address{projAddr}, Fingerprint: fingerprint("", doc)})
	}
	out = append(out, p.readAlerts(live.alerts, projAddr)...)
	sort.Strings(foreign)
	out[0].Foreign = foreign
	return out, nil
}

// readProject finds the spec's project (nil when absent) and reads what it
// holds. With the id a previous run remembered, it reads the project by id
// and its contents at once; when the id no longer names the spec's project,
// or without one, it finds the project by name first, then its contents.
func (p *Provider) readProject(ctx context.Context) (*admin.Group, *projectContents, error) {
	a := p.atlas()
	if id := p.cachedProjectID(); id != "" {
		var g *admin.Group
		var live *projectContents
		var gerr, lerr error
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			g, _, gerr = p.client.ProjectsApi.GetGroup(ctx, id).Execute()
		}()
		go func() {
			defer wg.Done()
			live, lerr = p.contents(ctx, id)
		}()
		wg.Wait()
		if gerr == nil && lerr == nil && g.GetName() == a.Project && g.GetOrgId() == a.OrgID {
			return g, live, nil
		}
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
	}
	g, _, err := p.client.ProjectsApi.GetGroupByName(ctx, a.Project).Execute()
	if isStatus(err, http.StatusNotFound) {
		p.setProject("")
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading project %q: %w", a.Project, err)
	}
	live, err := p.contents(ctx, g.GetId())
	if err != nil {
		return nil, nil, err
	}
	return g, live, nil
}

// projectContents is what Read learns about a project once it knows its id.
type projectContents struct {
	clusters []admin.ClusterDescription20240805
	users    []admin.CloudDatabaseUser
	entries  []admin.NetworkPermissionEntry
	alerts   []admin.GroupAlertsConfig
	// The backup schedule of the spec's cluster, read (scheduleRead) when
	// the spec wants backups; its error is judged once the cluster is known.
	schedule     *admin.DiskBackupSnapshotSchedule20240805
	scheduleErr  error
	scheduleRead bool
}

// contents reads a project's clusters, users and access list at once, so
// that a plan at a distance waits one round trip for them, not three. The
// spec's cluster's backup schedule is read beside them rather than after
// the clusters: when the spec wants backups it almost always exists, and
// Read drops the answer when the cluster does not (one call spent on a
// stack being created, a round trip saved on every plan after).
func (p *Provider) contents(ctx context.Context, gid string) (*projectContents, error) {
	a := p.atlas()
	c := &projectContents{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.cfg.MaxInFlight)
	g.Go(func() error {
		res, _, err := p.client.ClustersApi.ListClusters(gctx, gid).ItemsPerPage(pageSize).Execute()
		if err != nil {
			return fmt.Errorf("reading clusters of project %q: %w", a.Project, err)
		}
		c.clusters = res.GetResults()
		return nil
	})
	if spec.On(a.Backup.Enabled) {
		c.scheduleRead = true
		g.Go(func() error {
			c.schedule, _, c.scheduleErr = p.client.CloudBackupsApi.GetBackupSchedule(gctx, gid, a.Cluster.Name).Execute()
			return nil
		})
	}
	g.Go(func() (err error) {
		c.users, err = p.listUsers(gctx, gid)
		return err
	})
	g.Go(func() (err error) {
		c.entries, err = p.listAccess(gctx, gid)
		return err
	})
	g.Go(func() (err error) {
		c.alerts, err = p.listAlerts(gctx, gid)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return c, nil
}

// readUsers returns the stack's users (labelled with the stack, or the
// spec's user in admin) and names the others as foreign. Users are one
// identity per authentication database: a labelled user of the spec's name
// in another one (a second user made by mistake) gets an address of its
// own, database first, and is planned as a delete; the application uses
// admin/<user>.
func (p *Provider) readUsers(users []admin.CloudDatabaseUser, projAddr plan.Address) ([]provider.Resource, []string) {
	a := p.atlas()
	var out []provider.Resource
	var foreign []string
	for _, u := range users {
		ours := labelDoc(u.GetLabels())[TagStack] == p.st.Metadata.Name
		inUse := u.Username == a.User && u.DatabaseName == "admin"
		if !ours && !inUse {
			foreign = append(foreign, foreignName(KindDatabaseUser, u.DatabaseName+"/"+u.Username))
			continue
		}
		name := u.Username
		if inUse {
			p.setUserLive(true)
		} else if u.DatabaseName != "admin" {
			name = u.DatabaseName + "/" + u.Username
		}
		doc := liveUserDoc(&u)
		out = append(out, provider.Resource{Address: p.addr(KindDatabaseUser, name), ID: u.DatabaseName + "/" + u.Username,
			Doc: doc, DependsOn: []plan.Address{projAddr}, Fingerprint: fingerprint("", doc)})
	}
	return out, foreign
}

// foreignName is how the plan names an object nekoctl does not own.
func foreignName(kind, name string) string { return fmt.Sprintf("%s[%q]", kind, name) }

func accessValue(e admin.NetworkPermissionEntry) string {
	for _, v := range []string{e.GetCidrBlock(), e.GetIpAddress(), e.GetAwsSecurityGroup()} {
		if v != "" {
			return v
		}
	}
	return "?"
}

// fingerprint identifies the live version read: the state Atlas reports
// (clusters) and a digest of the fields read.
func fingerprint(state string, doc plan.Document) string {
	b, _ := json.Marshal(doc)
	sum := sha256.Sum256(b)
	fp := hex.EncodeToString(sum[:8])
	if state != "" {
		return state + "/" + fp
	}
	return fp
}

func (p *Provider) listUsers(ctx context.Context, gid string) ([]admin.CloudDatabaseUser, error) {
	var all []admin.CloudDatabaseUser
	for page := 1; ; page++ {
		res, _, err := p.client.DatabaseUsersApi.ListDatabaseUsers(ctx, gid).ItemsPerPage(pageSize).PageNum(page).Execute()
		if err != nil {
			return nil, fmt.Errorf("reading database users: %w", err)
		}
		all = append(all, res.GetResults()...)
		if len(res.GetResults()) < pageSize {
			return all, nil
		}
	}
}

func (p *Provider) listAccess(ctx context.Context, gid string) ([]admin.NetworkPermissionEntry, error) {
	var all []admin.NetworkPermissionEntry
	for page := 1; ; page++ {
		res, _, err := p.client.ProjectIPAccessListApi.ListAccessListEntries(ctx, gid).ItemsPerPage(pageSize).PageNum(page).Execute()
		if err != nil {
			return nil, fmt.Errorf("reading the IP access list: %w", err)
		}
		all = append(all, res.GetResults()...)
		if len(res.GetResults()) < pageSize {
			return all, nil
		}
	}
}

func (p *Provider) setLive(c *admin.ClusterDescription20240805) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live = c
}

func (p *Provider) liveCluster() *admin.ClusterDescription20240805 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live
}

func (p *Provider) liveSRV() string {
	if c := p.liveCluster(); c != nil && c.ConnectionStrings != nil {
		return c.ConnectionStrings.GetStandardSrv()
	}
	return ""
}

// liveClusterDoc has the same shape as the desired document. Autoscaling
// and disk fields the spec does not own are pruned in Diff.
func liveClusterDoc(c *admin.ClusterDescription20240805) plan.Document {
	regions := plan.Document{}
	for _, rs := range c.GetReplicationSpecs() {
		for _, rc := range rs.GetRegionConfigs() {
			e, ro := rc.GetElectableSpecs(), rc.GetReadOnlySpecs()
			size := e.GetInstanceSize()
			if e.GetNodeCount() == 0 && ro.GetNodeCount() > 0 {
				size = ro.GetInstanceSize()
			}
			as := rc.GetAutoScaling()
			compute := as.Compute != nil && as.Compute.GetEnabled()
			rd := plan.Document{
				"priority":           rc.GetPriority(),
				"electableNodes":     e.GetNodeCount(),
				"readOnlyNodes":      ro.GetNodeCount(),
				"computeAutoScaling": compute,
				"diskAutoScaling":    as.DiskGB != nil && as.DiskGB.GetEnabled(),
				"instanceSize":       size,
				"diskSizeGB":         int(e.GetDiskSizeGB()),
			}
			if compute {
				rd["minInstanceSize"], rd["maxInstanceSize"] = as.Compute.GetMinInstanceSize(), as.Compute.GetMaxInstanceSize()
			}
			regions[regionKey(rc.GetProviderName(), rc.GetRegionName())] = rd
		}
	}
	return plan.Document{
		"clusterType":                  c.GetClusterType(),
		"mongoDBMajorVersion":          c.GetMongoDBMajorVersion(),
		"backupEnabled":                c.GetBackupEnabled(),
		"pitEnabled":                   c.GetPitEnabled(),
		"terminationProtectionEnabled": c.GetTerminationProtectionEnabled(),
		"tags":                         tagDoc(c.GetTags()),
		"regions":                      regions,
	}
}

func liveUserDoc(u *admin.CloudDatabaseUser) plan.Document {
	roles := []any{}
	for _, r := range u.Roles {
		roles = append(roles, plan.Document{"roleName": r.RoleName, "databaseName": r.DatabaseName})
	}
	scopes := []any{}
	for _, s := range u.GetScopes() {
		scopes = append(scopes, plan.Document{"name": s.Name, "type": s.Type})
	}
	return plan.Document{"databaseName": u.DatabaseName, "roles": roles, "scopes": scopes, "labels": labelDoc(u.GetLabels())}
}

func hourlyRetentionDays(s *admin.DiskBackupSnapshotSchedule20240805) int {
	for _, pol := range s.GetPolicies() {
		for _, it := range pol.GetPolicyItems() {
			if it.FrequencyType == "hourly" {
				return retentionDays(it.RetentionUnit, it.RetentionValue)
			}
		}
	}
	return 0
}

func retentionDays(unit string, v int) int {
	switch unit {
	case "weeks":
		return v * 7
	case "months":
		return v * 30
	case "years":
		return v * 365
	}
	return v
}

func tagDoc(tags []admin.ResourceTag) plan.Document {
	d := plan.Document{}
	for _, t := range tags {
		d[t.Key] = t.Value
	}
	return d
}

func labelDoc(labels []admin.ComponentLabel) plan.Document {
	d := plan.Document{}
	for _, l := range labels {
		d[l.GetKey()] = l.GetValue()
	}
	return d
}

// isStatus reports an Atlas API answer with the given HTTP status.
func isStatus(err error, status int) bool {
	e, ok := admin.AsError(err)
	return ok && e.GetError() == status
}

package atlas

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Ownership markers put on remote objects.
const (
	TagManagedBy = "managed-by"
	TagStack     = "nekoctl-stack"
	// TagReleased marks a project a `down` kept (it held objects nekoctl does
	// not own) in place of the two tags above; the next `up` takes it back.
	TagReleased = "nekoctl-released"
	managedBy   = "nekoctl"
)

// URIOptions are appended to the application's connection string.
const URIOptions = "readPreference=nearest&retryWrites=true&w=majority"

// Desired returns the project, cluster, backup schedule, database user and
// access-list entries the spec declares. It makes no network call.
//
// The database password: when another provider has published the current
// one (provider.OutDBPassword, read from the regions' Secrets) and no
// rotation is asked, it is kept and the connection string is published
// here; otherwise a new password is generated and the user change
// produces both outputs when applied.
func (p *Provider) Desired(_ context.Context, in provider.Outputs) ([]provider.Resource, error) {
	a := p.atlas()
	if err := checkLayout(p.st); err != nil {
		return nil, err
	}
	projAddr := p.addr(KindProject, a.Project)
	clusterAddr := p.addr(KindCluster, a.Cluster.Name)
	out := []provider.Resource{
		{Address: projAddr, Doc: plan.Document{"name": a.Project, "orgId": a.OrgID, "tags": p.tags()},
			ReplaceOn: []string{"orgId"}, Protected: p.clusterProtected(nil)},
		{Address: clusterAddr, Doc: p.clusterDoc(), DependsOn: []plan.Address{projAddr},
			Protected: p.clusterProtected(nil)},
	}
	if w := p.pitrWindow(); w > 0 {
		out = append(out, provider.Resource{Address: p.addr(KindBackupSchedule, a.Cluster.Name),
			Doc:       plan.Document{"restoreWindowDays": w, "hourlyRetentionDays": w},
			DependsOn: []plan.Address{clusterAddr}})
	}
	user, err := p.desiredUser(in, clusterAddr)
	if err != nil {
		return nil, err
	}
	out = append(out, user)
	for _, e := range p.accessEntries() {
		out = append(out, provider.Resource{Address: p.addr(KindAccessEntry, e.cidr),
			Doc: plan.Document{"cidrBlock": e.cidr, "comment": e.comment}, DependsOn: []plan.Address{projAddr}})
	}
	out = append(out, p.desiredAlerts()...)
	return out, nil
}

func (p *Provider) tags() plan.Document {
	return plan.Document{TagManagedBy: managedBy, TagStack: p.st.Metadata.Name}
}

func (p *Provider) pitrWindow() int {
	b := p.atlas().Backup
	if !spec.On(b.Enabled) || b.PITRWindowDays == nil {
		return 0
	}
	return *b.PITRWindowDays
}

// clusterProtected: the spec marks it protected, or Atlas's termination
// protection is on (in the spec, or on the live cluster).
func (p *Provider) clusterProtected(liveTP *bool) bool {
	c := p.atlas().Cluster
	return spec.On(c.Protected) || spec.On(c.TerminationProtection) || (liveTP != nil && *liveTP)
}

// regionKey identifies a region config: compared by (provider, region),
// never by position.
func regionKey(provider, region string) string { return provider + "/" + region }

func (p *Provider) clusterDoc() plan.Document {
	a := p.atlas()
	c := a.Cluster
	prio := p.st.Spec.AtlasPriorities()
	compute, disk := false, true // Atlas's defaults: disk grows by itself
	minT, maxT := "", ""
	if as := c.Autoscaling; as != nil {
		compute, disk, minT, maxT = as.Compute, as.Disk, as.MinTier, as.MaxTier
	}
	regions := plan.Document{}
	for _, r := range p.st.Spec.Regions {
		rd := plan.Document{
			"priority":           prio[r.Name],
			"electableNodes":     deref(r.Atlas.ElectableNodes),
			"readOnlyNodes":      r.Atlas.ReadOnlyNodes,
			"computeAutoScaling": compute,
			"diskAutoScaling":    disk,
		}
		if !compute {
			rd["instanceSize"] = c.Tier
		} else {
			rd["minInstanceSize"], rd["maxInstanceSize"] = minT, maxT
		}
		if !disk && c.DiskSizeGB > 0 {
			rd["diskSizeGB"] = c.DiskSizeGB
		}
		regions[regionKey(r.Atlas.Provider, r.Atlas.Region)] = rd
	}
	backup := spec.On(a.Backup.Enabled)
	return plan.Document{
		"clusterType":                  "REPLICASET",
		"mongoDBMajorVersion":          c.MongoVersion,
		"backupEnabled":                backup,
		"pitEnabled":                   backup && p.pitrWindow() > 0,
		"terminationProtectionEnabled": spec.On(c.TerminationProtection),
		"tags":                         p.tags(),
		"regions":                      regions,
	}
}

func (p *Provider) desiredUser(in provider.Outputs, clusterAddr plan.Address) (provider.Resource, error) {
	a := p.atlas()
	doc := plan.Document{
		"databaseName": "admin",
		"roles":        []any{plan.Document{"roleName": "readWrite", "databaseName": a.Database}},
		"scopes":       []any{plan.Document{"name": a.Cluster.Name, "type": "CLUSTER"}},
		"labels":       plan.Document{TagStack: p.st.Metadata.Name},
	}
	r := provider.Resource{Address: p.addr(KindDatabaseUser, a.User), Doc: doc, DependsOn: []plan.Address{clusterAddr}}
	current, known := knownPassword(in)
	srv := p.liveSRV()
	switch {
	case p.cfg.RotateDBPassword:
		pw, err := p.cfg.Password()
		if err != nil {
			return r, err
		}
		doc["password"] = plan.NewSensitive(pw)
		r.Notes = append(r.Notes, "password rotated (--rotate-db-password): every region's Secret is updated")
		// Consumers must plan a change now and wait for this user's update.
		for _, k := range []string{provider.OutDBPassword, provider.OutMongoURI} {
			in.Set(k, plan.Unknown{From: k, Changes: true})
		}
	case known && srv != "" && p.userIsLive():
		// Keep the password; publish the connection string for the Secrets.
		in.Set(provider.OutMongoURI, plan.NewSensitive(mongoURI(srv, a.User, current, a.Database)))
		p.setKept(current)
	case known:
		// The user or the cluster's host does not exist yet: create the user
		// with the current password, or set it again, when applying, so that
		// the connection string is published only once it works.
		doc["password"] = plan.NewSensitive(current)
		p.setKept(current)
		if p.userIsLive() {
			r.Notes = append(r.Notes, "the current password is set again so that the connection string is published once the cluster exists")
		}
	default:
		pw, err := p.cfg.Password()
		if err != nil {
			return r, err
		}
		doc["password"] = plan.NewSensitive(pw)
		p.setKept("")
	}
	if _, ok := doc["password"]; ok {
		r.Produces = []string{provider.OutDBPassword, provider.OutMongoURI}
	}
	return r, nil
}

func knownPassword(in provider.Outputs) (string, bool) {
	if in == nil {
		return "", false
	}
	v, ok := in.Get(provider.OutDBPassword)
	if !ok {
		return "", false
	}
	switch pw := v.(type) {
	case plan.Sensitive:
		return pw.Reveal(), pw.Reveal() != ""
	case string:
		return pw, pw != ""
	}
	return "", false
}

// mongoURI is the application's connection string: the cluster's SRV
// address with credentials, database and options.
func mongoURI(srv, user, password, db string) string {
	host := strings.TrimPrefix(srv, "mongodb+srv://")
	host = strings.TrimSuffix(host, "/")
	u := url.URL{Scheme: "mongodb+srv", User: url.UserPassword(user, password), Host: host, Path: "/" + db, RawQuery: URIOptions}
	return u.String()
}

type accessEntry struct{ cidr, comment string }

// accessEntries merges the regions' egress CIDRs; a CIDR shared by regions
// is one entry naming them all.
func (p *Provider) accessEntries() []accessEntry {
	by := map[string][]string{}
	for _, r := range p.st.Spec.Regions {
		for _, c := range r.EgressCIDRs {
			n := canonicalCIDR(c)
			by[n] = append(by[n], r.Name)
		}
	}
	out := make([]accessEntry, 0, len(by))
	for cidr, regions := range by {
		out = append(out, accessEntry{cidr: cidr, comment: p.accessComment(regions)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cidr < out[j].cidr })
	return out
}

func (p *Provider) accessPrefix() string { return "nekoctl/" + p.st.Metadata.Name + ":" }

func (p *Provider) accessComment(regions []string) string {
	c := p.accessPrefix() + " " + strings.Join(regions, ",")
	if len(c) > 80 {
		c = c[:80]
	}
	return c
}

// canonicalCIDR turns "10.0.0.1" into "10.0.0.1/32" and "10.1.2.3/16" into "10.1.0.0/16".
func canonicalCIDR(s string) string {
	if !strings.Contains(s, "/") {
		if ip := net.ParseIP(s); ip != nil {
			if ip.To4() != nil {
				return s + "/32"
			}
			return s + "/128"
		}
		return s
	}
	if _, n, err := net.ParseCIDR(s); err == nil {
		return n.String()
	}
	return s
}

// checkLayout refuses a replica set Atlas would refuse, before any call.
// The spec's validation reports the same rules with positions.
func checkLayout(st *spec.Stack) error {
	total := 0
	for _, r := range st.Spec.Regions {
		total += deref(r.Atlas.ElectableNodes)
		if r.Atlas.Region == "" || r.Atlas.Provider == "" {
			return fmt.Errorf("region %q has no Atlas region or provider", r.Name)
		}
	}
	if total != 3 && total != 5 && total != 7 {
		return fmt.Errorf("the regions declare %d electable Atlas nodes; a replica set needs 3, 5 or 7", total)
	}
	return nil
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// generatePassword returns 32 random characters that need no escaping.
func generatePassword() (string, error) {
	b := make([]byte, 32)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("generating the database password: %w", err)
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b), nil
}

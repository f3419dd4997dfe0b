package atlas

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Diff compares by address with Atlas's rules applied first: region configs
// by (provider, region) key, fields autoscaling owns ignored, tags and
// labels others added ignored, a larger hourly retention kept. A cluster
// that is not IDLE gives an update that waits for it; topology changes that
// would lose a majority of electable nodes are staged.
func (p *Provider) Diff(_ context.Context, desired, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	if opts.RotateDBPassword && !p.cfg.RotateDBPassword {
		return nil, fmt.Errorf("password rotation was asked but the Atlas provider was built without Config.RotateDBPassword")
	}
	desiredBy := map[plan.Address]provider.Resource{}
	for _, d := range desired {
		desiredBy[d.Address] = d
	}
	liveBy := map[plan.Address]provider.Resource{}
	adjusted := make([]provider.Resource, 0, len(live))
	for _, l := range live {
		liveBy[l.Address] = l
		if d, ok := desiredBy[l.Address]; ok && !opts.Destroy {
			l.Doc = prune(l.Address.Kind, l.Doc, d.Doc)
		}
		adjusted = append(adjusted, l)
	}
	adjDesired := make([]provider.Resource, 0, len(desired))
	for _, d := range desired {
		if l, ok := liveBy[d.Address]; ok && d.Address.Kind == KindBackupSchedule {
			d.Doc = copyDoc(d.Doc)
			if lh, _ := l.Doc["hourlyRetentionDays"].(int); lh > d.Doc["hourlyRetentionDays"].(int) {
				d.Doc["hourlyRetentionDays"] = lh // never lower a longer retention
			}
		}
		adjDesired = append(adjDesired, d)
	}
	changes := provider.DiffResources(adjDesired, adjusted, opts)
	for i := range changes {
		p.annotate(&changes[i], liveBy[changes[i].Address], opts)
	}
	return changes, nil
}

func (p *Provider) annotate(c *plan.Change, live provider.Resource, opts provider.Options) {
	if lc := p.liveCluster(); c.Address.Kind == KindProject && c.Action == plan.Delete && lc != nil &&
		lc.GetBackupEnabled() && !p.cfg.DeleteBackups {
		// Atlas keeps the deleted cluster's snapshots in the project.
		c.Action, c.Reason = plan.Keep, fmt.Sprintf(
			"kept: will hold the retained backup snapshots of cluster %q (--delete-backups deletes them)", lc.GetName())
	}
	switch c.Action {
	case plan.Delete:
		c.DependsOn = live.DependsOn
	case plan.Create, plan.Update, plan.Adopt:
		c.ID = live.ID
	case plan.Keep:
		c.DependsOn = live.DependsOn
		c.Notes = append(c.Notes, "released, not deleted: its ownership tags give way to "+TagReleased+
			"; the next `up` takes it back")
	}
	switch c.Address.Kind {
	case KindCluster:
		lc := p.liveCluster()
		if lc != nil && c.Address.Name == lc.GetName() {
			if st := lc.GetStateName(); st != "IDLE" && c.Action == plan.NoOp && !opts.Destroy {
				c.Action = plan.Update
				c.Notes = append(c.Notes, fmt.Sprintf("cluster is %s: apply waits until it is IDLE", st))
			}
			if lc.GetPaused() && c.Action == plan.Update {
				c.Notes = append(c.Notes, "cluster is paused: Atlas refuses changes until it is resumed")
			}
		}
		for _, f := range c.Fields {
			if f.Path == "mongoDBMajorVersion" {
				c.Notes = append(c.Notes, versionNote(fmt.Sprint(f.Before), fmt.Sprint(f.After)))
			}
		}
		if c.Action == plan.Update && c.Before != nil && c.After != nil {
			if n := len(stages(regionsOf(c.Before), regionsOf(c.After))); n > 1 {
				c.Notes = append(c.Notes, fmt.Sprintf(
					"topology change applied in %d steps so that a majority of electable nodes always remains", n))
			}
		}
		if c.Action == plan.NoOp && (opts.Destroy || c.After == nil) && live.Protected {
			c.Notes = append(c.Notes, p.protectionReason(c.Before))
		}
		if c.Action == plan.Delete && on(c.Before["terminationProtectionEnabled"]) {
			c.Notes = append(c.Notes, "termination protection is turned off first (--force)")
		}
		if c.Action == plan.Delete && on(c.Before["backupEnabled"]) {
			if p.cfg.DeleteBackups {
				c.Notes = append(c.Notes, "its backup snapshots are deleted with it (--delete-backups)")
			} else {
				c.Notes = append(c.Notes, "its backup snapshots are kept (Atlas retains them after the delete; --delete-backups deletes them)")
			}
		}
	case KindProject:
		if c.Action == plan.NoOp && (opts.Destroy || c.After == nil) && live.Protected {
			c.Notes = append(c.Notes, "kept with its protected cluster")
		}
		if tags, _ := live.Doc["tags"].(plan.Document); c.Action == plan.Update && tags[TagReleased] == p.st.Metadata.Name {
			c.Notes = append(c.Notes, "released by an earlier `down` that kept it: taken back")
		}
	case KindBackupSchedule:
		if c.Action == plan.Delete {
			c.Action = plan.NoOp
			c.Notes = append(c.Notes, "removed with its cluster")
		}
	case KindDatabaseUser:
		if db, name, _ := strings.Cut(live.ID, "/"); c.Action == plan.Delete && !opts.Destroy && db != "admin" && name == p.atlas().User {
			c.Reason = fmt.Sprintf("a second user %q of this stack, in %s: the application uses admin/%s", name, db, name)
		}
		if c.Action == plan.Create && c.After != nil {
			if _, ok := c.After["password"]; !ok {
				// Known password, user missing in Atlas: create it with that password.
				c.After = copyDoc(c.After)
				c.After["password"] = plan.NewSensitive(p.keptPassword())
				c.Produces = []string{provider.OutDBPassword, provider.OutMongoURI}
			}
		}
		if c.Action == plan.Update && !p.cfg.RotateDBPassword && p.keptPassword() == "" {
			for _, f := range c.Fields {
				if f.Path == "password" {
					c.Notes = append(c.Notes, "no region's Secret holds the current password: a new one is set and the Secrets are updated with it")
					break
				}
			}
		}
	}
}

// versionNote describes a major version change; Atlas upgrades one
// release at a time and never downgrades.
func versionNote(from, to string) string {
	f, errF := strconv.ParseFloat(from, 64)
	t, errT := strconv.ParseFloat(to, 64)
	switch {
	case errF != nil || errT != nil:
		return fmt.Sprintf("MongoDB %s to %s", from, to)
	case t < f:
		return fmt.Sprintf("MongoDB %s to %s: Atlas does not downgrade; apply will fail", from, to)
	case t > f+1:
		return fmt.Sprintf("MongoDB %s to %s: Atlas upgrades one major release at a time; apply will fail", from, to)
	}
	return fmt.Sprintf("MongoDB upgrade %s to %s: a rolling restart of every node", from, to)
}

func (p *Provider) protectionReason(live plan.Document) string {
	var why []string
	if on(live["terminationProtectionEnabled"]) {
		why = append(why, "Atlas termination protection is on")
	}
	c := p.atlas().Cluster
	if c.Protected != nil && *c.Protected {
		why = append(why, "the spec marks it protected")
	}
	if len(why) == 0 {
		why = append(why, "protected")
	}
	return "not deleted: " + strings.Join(why, " and ") + "; `down --force` deletes it"
}

// prune drops from a live document what the desired one does not own.
func prune(kind string, live, desired plan.Document) plan.Document {
	out := copyDoc(live)
	switch kind {
	case KindCluster, KindProject:
		out["tags"] = keepKeys(live["tags"], desired["tags"])
		lr, _ := live["regions"].(plan.Document)
		dr, _ := desired["regions"].(plan.Document)
		if lr == nil {
			break
		}
		regions := plan.Document{}
		for k, v := range lr {
			lv := v.(plan.Document)
			dv, ok := dr[k].(plan.Document)
			if !ok {
				regions[k] = lv
				continue
			}
			nv := copyDoc(lv)
			for _, f := range []string{"instanceSize", "diskSizeGB", "minInstanceSize", "maxInstanceSize"} {
				if _, owned := dv[f]; !owned {
					delete(nv, f)
				}
			}
			regions[k] = nv
		}
		out["regions"] = regions
	case KindDatabaseUser:
		out["labels"] = keepKeys(live["labels"], desired["labels"])
	}
	return out
}

func keepKeys(live, desired any) plan.Document {
	l, _ := live.(plan.Document)
	d, _ := desired.(plan.Document)
	out := plan.Document{}
	for k := range d {
		if v, ok := l[k]; ok {
			out[k] = v
		}
	}
	return out
}

func copyDoc(d plan.Document) plan.Document {
	out := make(plan.Document, len(d))
	for k, v := range d {
		out[k] = v
	}
	return out
}

func on(v any) bool { b, _ := v.(bool); return b }

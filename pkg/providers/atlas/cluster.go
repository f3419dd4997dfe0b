package atlas

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

func (p *Provider) applyCluster(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	name := c.Address.Name
	switch c.Action {
	case plan.Create:
		if err := p.createCluster(ctx, c.Address, gid, p.clusterBody(c.After, nil, topologyOf(c.After))); err != nil {
			return err
		}
		return p.waitIdle(ctx, c.Address, plan.Create, gid, name)
	case plan.Update, plan.Adopt:
		// Adopting sends the stack's tags with the owned fields that differ.
		return p.updateCluster(ctx, c, gid)
	}
	return fmt.Errorf("a cluster cannot be %sd; change the spec so that it is updated in place", c.Action)
}

// createCluster creates the cluster. When the answer is lost it re-reads
// before trying again, so a cluster Atlas did create is waited for rather
// than created twice; a cluster of that name being deleted is waited out.
func (p *Provider) createCluster(ctx context.Context, addr plan.Address, gid string, body *admin.ClusterDescription20240805) error {
	err := p.createChecked(ctx, addr,
		func() error {
			_, _, err := p.client.ClustersApi.CreateCluster(ctx, gid, body).Execute()
			return err
		},
		func(err error) bool { return admin.IsErrorCode(err, "DUPLICATE_CLUSTER_NAME") || answerLost(err) },
		func() (bool, error) {
			existing, err := p.getCluster(ctx, gid, body.GetName())
			switch {
			case err != nil || existing == nil:
				return false, err
			case existing.GetStateName() == "DELETING":
				p.emit(event.Event{Type: event.Progress, Address: addr, Action: plan.Create,
					Message: "a cluster with this name is being deleted; waiting before creating it"})
				return false, p.waitGone(ctx, addr, plan.Create, gid, body.GetName())
			}
			p.emit(event.Event{Type: event.Progress, Address: addr, Action: plan.Create,
				Message: "the cluster exists (" + existing.GetStateName() + "): waiting for it instead of creating another"})
			return true, nil
		})
	if err != nil {
		return fmt.Errorf("creating cluster: %w", err)
	}
	return nil
}

func (p *Provider) getCluster(ctx context.Context, gid, name string) (*admin.ClusterDescription20240805, error) {
	c, _, err := p.client.ClustersApi.GetCluster(ctx, gid, name).Execute()
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// updateCluster sends the minimal PATCH: the changed top-level fields, and
// the whole replicationSpecs only when the topology changed, staged so that
// a majority of electable nodes always remains. No field change means the
// cluster was busy when planned: wait for it.
func (p *Provider) updateCluster(ctx context.Context, c plan.Change, gid string) error {
	name := c.Address.Name
	if len(c.Fields) == 0 {
		return p.waitIdle(ctx, c.Address, plan.Update, gid, name)
	}
	cur, err := p.getCluster(ctx, gid, name)
	if err != nil {
		return fmt.Errorf("reading cluster: %w", err)
	}
	if cur == nil {
		return fmt.Errorf("cluster no longer exists; plan again")
	}
	if cur.GetPaused() {
		return fmt.Errorf("cluster is paused: Atlas refuses every change until it is resumed")
	}
	if cur.GetStateName() != "IDLE" {
		if err := p.waitIdle(ctx, c.Address, plan.Update, gid, name); err != nil {
			return err
		}
	}
	patch := &admin.ClusterDescription20240805{}
	topologyChanged := false
	for _, f := range c.Fields {
		switch top := strings.SplitN(f.Path, ".", 2)[0]; top {
		case "regions":
			topologyChanged = true
		case "backupEnabled":
			patch.BackupEnabled = admin.PtrBool(on(c.After[top]))
		case "pitEnabled":
			patch.PitEnabled = admin.PtrBool(on(c.After[top]))
		case "terminationProtectionEnabled":
			patch.TerminationProtectionEnabled = admin.PtrBool(on(c.After[top]))
		case "mongoDBMajorVersion":
			patch.MongoDBMajorVersion = admin.PtrString(fmt.Sprint(c.After[top]))
		case "tags":
			patch.Tags = p.mergedTags(cur.GetTags())
		case "clusterType":
			return fmt.Errorf("the cluster type cannot change from %v to %v", f.Before, f.After)
		}
	}
	steps := []topology{topologyOf(c.After)}
	if topologyChanged {
		steps = stages(liveTopology(cur), topologyOf(c.After))
	}
	for i, step := range steps {
		if topologyChanged {
			final := i == len(steps)-1
			body := p.clusterBody(c.After, cur, step)
			if !final {
				body = p.clusterBody(c.After, cur, withStagePriorities(step, topologyOf(c.After)))
			}
			patch.ReplicationSpecs = body.ReplicationSpecs
			if len(steps) > 1 {
				p.emit(event.Event{Type: event.Progress, Address: c.Address, Action: plan.Update,
					Message: fmt.Sprintf("topology step %d of %d", i+1, len(steps))})
			}
		}
		if _, _, err := p.client.ClustersApi.UpdateCluster(ctx, gid, name, patch).Execute(); err != nil {
			return fmt.Errorf("updating cluster: %w", err)
		}
		if err := p.waitIdle(ctx, c.Address, plan.Update, gid, name); err != nil {
			return err
		}
		patch = &admin.ClusterDescription20240805{}
	}
	return nil
}

func (p *Provider) mergedTags(live []admin.ResourceTag) *[]admin.ResourceTag {
	want := p.tags()
	out := []admin.ResourceTag{}
	for _, t := range live {
		if _, ours := want[t.Key]; !ours && t.Key != TagReleased {
			out = append(out, t)
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, admin.ResourceTag{Key: k, Value: fmt.Sprint(want[k])})
	}
	return &out
}

// clusterBody builds the create body (cur nil) or the replicationSpecs of
// a PATCH for topology t, taking sizes and autoscaling from the desired
// document. Node types are always sent, with nodeCount 0 when removed.
func (p *Provider) clusterBody(doc plan.Document, cur *admin.ClusterDescription20240805, t topology) *admin.ClusterDescription20240805 {
	regions, _ := doc["regions"].(plan.Document)
	curSize := map[string]string{}
	if cur != nil {
		for k, v := range liveClusterDoc(cur)["regions"].(plan.Document) {
			curSize[k], _ = v.(plan.Document)["instanceSize"].(string)
		}
	}
	keys := make([]string, 0, len(t))
	for k, r := range t {
		if r.electable+r.readOnly > 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if t[keys[i]].priority != t[keys[j]].priority {
			return t[keys[i]].priority > t[keys[j]].priority
		}
		return keys[i] < keys[j]
	})
	var rcs []admin.CloudRegionConfig20240805
	for _, k := range keys {
		r := t[k]
		d, _ := regions[k].(plan.Document)
		if d == nil { // a region on its way out keeps the first desired region's settings
			for _, v := range regions {
				d = v.(plan.Document)
				break
			}
		}
		size, _ := d["instanceSize"].(string)
		if size == "" { // autoscaling owns it: keep what runs, or start at the minimum
			if size = curSize[k]; size == "" {
				size, _ = d["minInstanceSize"].(string)
			}
		}
		provider, region, _ := strings.Cut(k, "/")
		e := &admin.HardwareSpec20240805{InstanceSize: admin.PtrString(size), NodeCount: admin.PtrInt(r.electable)}
		ro := &admin.DedicatedHardwareSpec20240805{InstanceSize: admin.PtrString(size), NodeCount: admin.PtrInt(r.readOnly)}
		if gb := num(d["diskSizeGB"]); gb > 0 {
			e.DiskSizeGB, ro.DiskSizeGB = admin.PtrFloat64(float64(gb)), admin.PtrFloat64(float64(gb))
		}
		compute := &admin.AdvancedComputeAutoScaling{Enabled: admin.PtrBool(on(d["computeAutoScaling"]))}
		if on(d["computeAutoScaling"]) {
			compute.ScaleDownEnabled = admin.PtrBool(true)
			compute.MinInstanceSize = admin.PtrString(fmt.Sprint(d["minInstanceSize"]))
			compute.MaxInstanceSize = admin.PtrString(fmt.Sprint(d["maxInstanceSize"]))
		}
		rcs = append(rcs, admin.CloudRegionConfig20240805{
			ProviderName: admin.PtrString(provider), RegionName: admin.PtrString(region),
			Priority: admin.PtrInt(r.priority), ElectableSpecs: e, ReadOnlySpecs: ro,
			AutoScaling: &admin.AdvancedAutoScalingSettings{Compute: compute,
				DiskGB: &admin.DiskGBAutoScaling{Enabled: admin.PtrBool(on(d["diskAutoScaling"]))}},
		})
	}
	body := &admin.ClusterDescription20240805{ReplicationSpecs: &[]admin.ReplicationSpec20240805{{RegionConfigs: &rcs}}}
	if cur == nil {
		body.Name = admin.PtrString(p.atlas().Cluster.Name)
		body.ClusterType = admin.PtrString(fmt.Sprint(doc["clusterType"]))
		body.MongoDBMajorVersion = admin.PtrString(fmt.Sprint(doc["mongoDBMajorVersion"]))
		body.BackupEnabled = admin.PtrBool(on(doc["backupEnabled"]))
		body.PitEnabled = admin.PtrBool(on(doc["pitEnabled"]))
		body.TerminationProtectionEnabled = admin.PtrBool(on(doc["terminationProtectionEnabled"]))
		body.Tags = p.mergedTags(nil)
	}
	return body
}

func (p *Provider) deleteCluster(ctx context.Context, c plan.Change) error {
	gid, err := p.projectID(ctx)
	if err != nil {
		return err
	}
	name := c.Address.Name
	cur, err := p.getCluster(ctx, gid, name)
	if err != nil {
		return fmt.Errorf("reading cluster: %w", err)
	}
	if cur == nil {
		return nil
	}
	if cur.GetStateName() != "DELETING" {
		if cur.GetTerminationProtectionEnabled() {
			// Planned with --force: the plan said protection is turned off first.
			if cur.GetPaused() {
				return fmt.Errorf("cluster is paused with termination protection on; resume it before deleting it")
			}
			off := &admin.ClusterDescription20240805{TerminationProtectionEnabled: admin.PtrBool(false)}
			if _, _, err := p.client.ClustersApi.UpdateCluster(ctx, gid, name, off).Execute(); err != nil {
				return fmt.Errorf("turning termination protection off: %w", err)
			}
		}
		_, err := p.client.ClustersApi.DeleteCluster(ctx, gid, name).RetainBackups(!p.cfg.DeleteBackups).Execute()
		if err != nil && !admin.IsErrorCode(err, "CLUSTER_ALREADY_REQUESTED_DELETION") && !isStatus(err, http.StatusNotFound) {
			return fmt.Errorf("deleting cluster: %w", err)
		}
	}
	return p.waitGone(ctx, c.Address, plan.Delete, gid, name)
}

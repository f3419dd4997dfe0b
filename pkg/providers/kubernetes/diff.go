package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

const monitoringGroup = "monitoring.coreos.com"

// Diff compares desired with live under the field manager "nekoctl". An
// object whose live state certainly matches (see unchanged) is a no-op
// without a request; the others are compared by a server-side dry-run
// apply, so that server defaults and fields other managers own never show
// as changes. All objects are compared at once. An object nekoctl would
// create that exists without the stack's labels is planned as an adoption
// (a conflict unless --adopt). Owned objects the spec no longer declares
// are deleted (pruned). Before the workload changes, its pod templates are
// checked against the namespace's Pod Security level by a dry-run create.
func (p *Provider) Diff(ctx context.Context, desired, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	p.skipped.reset()
	if opts.Offline {
		return provider.DiffResources(desired, nil, opts), nil
	}
	if err := p.clients(); err != nil {
		return nil, err
	}
	snap := p.snapshot()
	if snap == nil {
		return nil, p.wrap(fmt.Errorf("diff before read"))
	}
	if opts.Destroy {
		return p.diffDestroy(ctx, live, opts)
	}
	if err := p.opts.ReceiverSecrets.Missing(p.st); err != nil {
		return nil, p.wrap(err)
	}
	liveBy := map[plan.Address]provider.Resource{}
	for _, r := range live {
		liveBy[r.Address] = r
	}
	var kinds []schema.GroupKind
	for _, d := range desired {
		if d.Address.Kind != ReleaseKind {
			kinds = append(kinds, docKey(d.Doc).gk)
		}
	}
	p.inv.plan(kinds)
	changes := make([]plan.Change, len(desired))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.MaxInFlight)
	for i, d := range desired {
		g.Go(func() error {
			l, exists := liveBy[d.Address]
			if d.Address.Kind == ReleaseKind {
				changes[i] = p.diffRelease(d, l, exists, opts)
				return nil
			}
			c, err := p.diffOne(gctx, d, l, exists, snap, opts)
			changes[i] = c
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, p.readError(err)
	}
	p.rollOnSecrets(changes)
	if err := p.checkWorkloads(ctx, changes, snap); err != nil {
		return nil, err
	}
	wanted := map[plan.Address]bool{}
	for _, d := range desired {
		wanted[d.Address] = true
	}
	var rest []provider.Resource
	for _, r := range live {
		if !wanted[r.Address] && !r.Unowned {
			rest = append(rest, r)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Address.String() < rest[j].Address.String() })
	for _, r := range rest {
		changes = append(changes, plan.Change{Address: r.Address, Action: plan.Delete, ID: r.ID, Before: r.Doc,
			Fingerprint: r.Fingerprint, Reason: "no longer in the spec"})
	}
	p.membersFirst(changes)
	return changes, nil
}

func (p *Provider) diffOne(ctx context.Context, d, l provider.Resource, exists bool, snap *snapshot, opts provider.Options) (plan.Change, error) {
	c := plan.Change{Address: d.Address, After: d.Doc, DependsOn: d.DependsOn, Produces: d.Produces, Notes: d.Notes}
	gvk := schema.FromAPIVersionAndKind(str(d.Doc["apiVersion"]), kindOf(d.Doc))
	m, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return c, err
	}
	if !ok && gvk.Group == monitoringGroup && p.st.Spec.Monitoring.Installs() {
		// The monitoring release planned before it brings the CRD.
		c.Action = plan.Create
		c.Notes = append(c.Notes, fmt.Sprintf("created once the monitoring release has installed the %s CRD", gvk.Kind))
		return c, nil
	}
	if !ok {
		if gvk.Group == monitoringGroup {
			// The region's one warning (Diagnostics) says what to do.
			p.skipped.add(gvk)
			c.Action = plan.NoOp
			c.Notes = append(c.Notes, fmt.Sprintf("skipped: the cluster does not serve %s/%s (see the region's warning)", gvk.GroupVersion(), gvk.Kind))
			return c, nil
		}
		return c, fmt.Errorf("%s: the cluster does not serve %s %s (is its CRD installed?)", d.Address, gvk.GroupVersion(), gvk.Kind)
	}
	if !exists {
		c.Action = plan.Create
		if namespaceOf(d.Doc) != "" && snap.ns == nil {
			return c, nil
		}
		// Validate the create now: a dry-run apply reports the API
		// server's objections with the object and field.
		obj, err := toObject(d.Doc, func([]string, plan.Unknown) (any, error) { return "", nil })
		if err != nil {
			return c, err
		}
		if _, err := p.serverSideApply(ctx, m.Resource, obj, false, true); err != nil {
			return c, fmt.Errorf("%s: server-side dry-run apply: %s", d.Address, apiMessage(err))
		}
		return c, nil
	}
	c.ID, c.Before, c.Fingerprint = l.ID, l.Doc, l.Fingerprint
	u, _ := snap.get(docKey(d.Doc))
	var pending []plan.Field
	obj, err := toObject(d.Doc, func(path []string, unk plan.Unknown) (any, error) {
		v, ok := lookup(l.Doc, path)
		if ok && !unk.Changes {
			return v, nil // the live value stands until its producer says otherwise
		}
		pending = append(pending, plan.Field{Path: pathString(path), Before: v, After: unk})
		if ok {
			return v, nil
		}
		return "", nil
	})
	if err != nil {
		return c, err
	}
	if l.Unowned {
		c.Action = plan.Adopt
		if !opts.Adopt {
			c.Conflict = provider.ConflictUnowned
		}
	}
	if u == nil || l.Unowned || !unchanged(obj, u) {
		dry, err := p.serverSideApply(ctx, m.Resource, obj, true, true)
		if err != nil {
			if isImmutable(err) && !l.Unowned {
				c.Action, c.Reason = plan.Replace, "a field that cannot change in place differs: "+apiMessage(err)
				return c, nil
			}
			return c, fmt.Errorf("%s: server-side dry-run apply: %s", d.Address, apiMessage(err))
		}
		c.Fields = plan.DiffDocuments(l.Doc, liveDoc(dry), false)
	}
	c.Fields = append(c.Fields, pending...)
	switch {
	case l.Unowned:
	case len(c.Fields) == 0:
		c.Action = plan.NoOp
	default:
		c.Action = plan.Update
	}
	return c, nil
}

// rollOnSecrets makes the Deployment roll when a Secret its pods read
// changes: its pod template's digest of those Secrets becomes a value
// known only once they are applied.
func (p *Provider) rollOnSecrets(changes []plan.Change) {
	changing := false
	for _, c := range changes {
		if c.Address.Kind == "Secret" && c.Action != plan.NoOp && c.Action != plan.Create && podSecret(c.Address.Name) {
			changing = true
		}
	}
	if !changing {
		return
	}
	for i := range changes {
		c := &changes[i]
		if c.Address.Kind != "Deployment" || c.Action == plan.Create {
			continue
		}
		path := []string{"spec", "template", "metadata", "annotations", "nekoctl.dev/secrets-digest"}
		if _, ok := lookup(c.After, path); !ok {
			continue
		}
		before, _ := lookup(c.Before, path)
		c.After = withChangingDigest(c.After, p.region)
		after, _ := lookup(c.After, path)
		c.Fields = append(c.Fields, plan.Field{Path: pathString(path), Before: before, After: after})
		if c.Action == plan.NoOp {
			c.Action = plan.Update
		}
	}
}

// checkWorkloads runs, at once, the Pod Security check of every Deployment
// and StatefulSet that changes, and notes a route whose Gateway is missing
// or has no address (from what Read saw).
func (p *Provider) checkWorkloads(ctx context.Context, changes []plan.Change, snap *snapshot) error {
	var mu sync.Mutex
	var violations []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.MaxInFlight)
	for i := range changes {
		c := &changes[i]
		if c.Action == plan.NoOp {
			continue
		}
		switch c.Address.Kind {
		case "Deployment", "StatefulSet":
			if snap.ns == nil {
				c.Notes = append(c.Notes, "Pod Security (restricted) is checked by a server-side dry-run once the namespace exists, before this object is applied")
				continue
			}
			g.Go(func() error {
				if err := p.checkPodSecurity(gctx, c.After); err != nil {
					mu.Lock()
					violations = append(violations, err.Error())
					mu.Unlock()
				}
				return nil
			})
		case "HTTPRoute":
			if note := p.gatewayNote(snap); note != "" {
				c.Notes = append(c.Notes, note)
			}
		}
	}
	_ = g.Wait()
	if len(violations) > 0 {
		sort.Strings(violations)
		return p.wrap(fmt.Errorf("Pod Security admission refuses the workload:\n  %s", strings.Join(violations, "\n  ")))
	}
	return nil
}

// diffDestroy plans the deletion of everything owned. The namespace is
// kept (plan.Keep), and only released, when it holds objects of other
// owners; one this stack released before is left alone.
func (p *Provider) diffDestroy(ctx context.Context, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	nsAddr := p.address("Namespace", "", p.st.Spec.Workload.Namespace)
	kept := live[:0:0]
	for _, r := range live {
		if r.Address == nsAddr && !r.Unowned {
			if u := p.snapshot().ns; u != nil && p.released(u) {
				continue
			}
			// Pods and claims of other owners count too.
			_, foreign, err := p.namespaceContents(ctx)
			if err != nil {
				return nil, p.readError(err)
			}
			r.Foreign = foreign
		}
		kept = append(kept, r)
	}
	changes := provider.DiffResources(nil, kept, opts)
	p.membersFirst(changes)
	return changes, nil
}

// membersFirst makes namespaced deletes depend on the namespace, so that
// (deletes running dependents first) members go before their namespace.
func (p *Provider) membersFirst(changes []plan.Change) {
	nsAddr := p.address("Namespace", "", p.st.Spec.Workload.Namespace)
	for i := range changes {
		if changes[i].Action == plan.Delete && changes[i].Address.Kind != "Namespace" {
			changes[i].DependsOn = append(changes[i].DependsOn, nsAddr)
		}
	}
}

// serverSideApply applies obj as the field manager "nekoctl", or only
// checks it (dryRun). force takes over fields other managers set; a
// create does not force, so that an object someone made since the plan is
// not silently taken over.
func (p *Provider) serverSideApply(ctx context.Context, gvr schema.GroupVersionResource, obj *unstructured.Unstructured, force, dryRun bool) (*unstructured.Unstructured, error) {
	body, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: FieldManager, Force: &force}
	if dryRun {
		po.DryRun = []string{metav1.DryRunAll}
	}
	ri := p.dyn.Resource(gvr)
	if ns := obj.GetNamespace(); ns != "" {
		return ri.Namespace(ns).Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
	}
	return ri.Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
}

func (p *Provider) get(ctx context.Context, gvr schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	if namespace == "" {
		return p.dyn.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
	}
	return p.dyn.Resource(gvr).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
}

// isImmutable reports a refusal to change a field in place.
func isImmutable(err error) bool {
	if !apierrors.IsInvalid(err) {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "immutable") || strings.Contains(msg, "updates to statefulset spec for fields other than")
}

// apiMessage is the API server's explanation, which names the object and
// the offending field.
func apiMessage(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) && st.Status().Message != "" {
		return st.Status().Message
	}
	return err.Error()
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// gatewayNote warns when the Gateway the route attaches to was missing or
// had no address when Read looked: the region would not be served.
func (p *Provider) gatewayNote(snap *snapshot) string {
	if p.addressOverride() != "" {
		return ""
	}
	g := p.st.Spec.Workload.Exposure.Gateway
	if on(g.Create) {
		return "" // the plan creates it; apply waits for its address
	}
	switch {
	case apierrors.IsNotFound(snap.addressErr):
		return fmt.Sprintf("Gateway %s/%s does not exist in this cluster: the route is not served and apply waits for its address", g.Namespace, g.Name)
	case snap.addressErr == nil && snap.address == "":
		return fmt.Sprintf("Gateway %s/%s reports no address yet: apply waits for it (or set regions[].ingressAddress)", g.Namespace, g.Name)
	}
	return ""
}

// podSecret reports the Secrets the API pods read through their environment.
func podSecret(name string) bool {
	_, n, _ := strings.Cut(name, "/")
	return n == atlasSecret || n == authSecret || n == RedisName
}

// withChangingDigest marks the pod template's secrets digest as changing,
// so that the Deployment rolls after its Secrets are updated.
func withChangingDigest(doc plan.Document, region string) plan.Document {
	v, ok := lookup(doc, []string{"spec", "template", "metadata", "annotations"})
	ann, _ := v.(map[string]any)
	if !ok || ann == nil {
		return doc
	}
	if _, ok := ann["nekoctl.dev/secrets-digest"]; ok {
		ann["nekoctl.dev/secrets-digest"] = plan.Unknown{From: digestKey(region), Changes: true}
	}
	return doc
}

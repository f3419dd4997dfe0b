package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/fluxcd/pkg/ssa"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

const monitoringGroup = "monitoring.coreos.com"

// Diff compares desired with live by server-side dry-run apply under the
// field manager "nekoctl": an object whose dry-run result equals the live
// object is a no-op, so server defaults and fields other managers own
// never show as changes. Owned objects the spec no longer declares are
// deleted (pruned). Before the workload changes, its pod templates are
// checked against the namespace's Pod Security level by a dry-run create.
func (p *Provider) Diff(ctx context.Context, desired, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	if opts.Offline {
		return provider.DiffResources(desired, nil, opts), nil
	}
	if err := p.clients(); err != nil {
		return nil, err
	}
	if opts.Destroy {
		return p.diffDestroy(ctx, live, opts)
	}
	liveBy := map[plan.Address]provider.Resource{}
	for _, r := range live {
		liveBy[r.Address] = r
	}
	nsExists := false
	if _, ok := liveBy[p.address("Namespace", "", p.st.Spec.Workload.Namespace)]; ok {
		nsExists = true
	}
	var changes []plan.Change
	var violations []string
	secretsChange := false
	for _, d := range desired {
		if d.Address.Kind == "Deployment" && secretsChange {
			d.Doc = withChangingDigest(d.Doc, p.region)
		}
		c, err := p.diffOne(ctx, d, liveBy, nsExists)
		if err != nil {
			return nil, p.readError(err)
		}
		delete(liveBy, d.Address)
		if d.Address.Kind == "Secret" && c.Action != plan.NoOp && c.Action != plan.Create && podSecret(d.Address.Name) {
			secretsChange = true
		}
		if k := d.Address.Kind; (k == "Deployment" || k == "StatefulSet") && c.Action != plan.NoOp {
			if nsExists {
				if err := p.checkPodSecurity(ctx, d.Doc); err != nil {
					violations = append(violations, err.Error())
				}
			} else {
				c.Notes = append(c.Notes, "Pod Security (restricted) is checked by a server-side dry-run once the namespace exists, before this object is applied")
			}
		}
		if d.Address.Kind == "HTTPRoute" && c.Action != plan.NoOp {
			if note := p.gatewayNote(ctx); note != "" {
				c.Notes = append(c.Notes, note)
			}
		}
		changes = append(changes, c)
	}
	if len(violations) > 0 {
		return nil, p.wrap(fmt.Errorf("Pod Security admission refuses the workload:\n  %s", strings.Join(violations, "\n  ")))
	}
	var rest []provider.Resource
	for _, r := range liveBy {
		rest = append(rest, r)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Address.String() < rest[j].Address.String() })
	for _, r := range rest {
		changes = append(changes, plan.Change{Address: r.Address, Action: plan.Delete, ID: r.ID, Before: r.Doc,
			Reason: "no longer in the spec"})
	}
	p.membersFirst(changes)
	return changes, nil
}

func (p *Provider) diffOne(ctx context.Context, d provider.Resource, liveBy map[plan.Address]provider.Resource, nsExists bool) (plan.Change, error) {
	c := plan.Change{Address: d.Address, After: d.Doc, DependsOn: d.DependsOn, Produces: d.Produces, Notes: d.Notes}
	gvk := schema.FromAPIVersionAndKind(str(d.Doc["apiVersion"]), kindOf(d.Doc))
	m, ok, err := p.mapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return c, err
	}
	if !ok {
		if gvk.Group == monitoringGroup {
			note := fmt.Sprintf("skipped: the cluster does not serve %s/%s (the Prometheus Operator CRDs, e.g. from kube-prometheus-stack, are not installed); set workload.monitoring.serviceMonitor/alerts to false to silence this", gvk.GroupVersion(), gvk.Kind)
			c.Action, c.Notes = plan.NoOp, append(c.Notes, note)
			p.emit(event.Warning, d.Address, plan.NoOp, note, zeroTime)
			return c, nil
		}
		return c, fmt.Errorf("%s: the cluster does not serve %s %s (is its CRD installed?)", d.Address, gvk.GroupVersion(), gvk.Kind)
	}
	l, exists := liveBy[d.Address]
	if !exists {
		u, err := p.get(ctx, m.Resource, namespaceOf(d.Doc), nameOf(d.Doc))
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return c, fmt.Errorf("%s: reading: %w", d.Address, err)
		case !p.owned(u):
			return c, p.foreignError(d.Address)
		default:
			l, exists = p.resource(u), true
		}
	}
	if !exists {
		c.Action = plan.Create
		if namespaceOf(d.Doc) != "" && !nsExists {
			return c, nil
		}
		// Validate the create now: a dry-run apply reports the API
		// server's objections with the object and field.
		obj, err := toObject(d.Doc, func([]string, plan.Unknown) (any, error) { return "", nil })
		if err != nil {
			return c, err
		}
		if _, _, _, err := p.manager.Diff(ctx, obj, ssa.DiffOptions{}); err != nil {
			return c, fmt.Errorf("%s: server-side dry-run apply: %s", d.Address, apiMessage(err))
		}
		return c, nil
	}
	c.ID, c.Before = l.ID, l.Doc
	var pending []plan.Field
	obj, err := toObject(d.Doc, func(path []string, u plan.Unknown) (any, error) {
		v, ok := lookup(l.Doc, path)
		if ok && !u.Changes {
			return v, nil // the live value stands until its producer says otherwise
		}
		pending = append(pending, plan.Field{Path: pathString(path), Before: v, After: u})
		if ok {
			return v, nil
		}
		return "", nil
	})
	if err != nil {
		return c, err
	}
	_, existing, dry, err := p.manager.Diff(ctx, obj, ssa.DiffOptions{})
	if err != nil {
		if isImmutable(err) {
			c.Action, c.Reason = plan.Replace, "a field that cannot change in place differs: "+apiMessage(err)
			return c, nil
		}
		return c, fmt.Errorf("%s: server-side dry-run apply: %s", d.Address, apiMessage(err))
	}
	if existing != nil && dry != nil {
		c.Fields = plan.DiffDocuments(liveDoc(existing), liveDoc(dry), false)
	}
	c.Fields = append(c.Fields, pending...)
	if len(c.Fields) == 0 {
		c.Action = plan.NoOp
	} else {
		c.Action = plan.Update
	}
	return c, nil
}

// diffDestroy plans the deletion of everything owned. The namespace is
// kept, and only released, when it holds objects of other owners.
func (p *Provider) diffDestroy(ctx context.Context, live []provider.Resource, opts provider.Options) ([]plan.Change, error) {
	changes := provider.DiffResources(nil, live, opts)
	for i := range changes {
		c := &changes[i]
		if c.Address.Kind != "Namespace" {
			continue
		}
		foreign, err := p.foreignInNamespace(ctx)
		if err != nil {
			return nil, p.readError(err)
		}
		if len(foreign) > 0 {
			c.Notes = append(c.Notes, fmt.Sprintf("the namespace holds objects nekoctl does not own (%s): it is kept and only its nekoctl labels are removed", strings.Join(foreign, ", ")))
		}
	}
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

// foreignInNamespace lists objects in the workload namespace that this
// stack does not own, ignoring what Kubernetes itself creates there.
func (p *Provider) foreignInNamespace(ctx context.Context) ([]string, error) {
	ns := p.st.Spec.Workload.Namespace
	kinds := append([]schema.GroupKind{{Kind: "Pod"}, {Kind: "PersistentVolumeClaim"}}, knownKinds...)
	var out []string
	for _, gk := range kinds {
		m, ok, err := p.mapping(gk, "")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		l, err := p.dyn.Resource(m.Resource).Namespace(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			u := &l.Items[i]
			if p.owned(u) || len(u.GetOwnerReferences()) > 0 || u.GetDeletionTimestamp() != nil || systemObject(u, p.parentKey().Name) {
				continue
			}
			out = append(out, u.GetKind()+" "+u.GetName())
		}
	}
	return out, nil
}

// systemObject is what Kubernetes or nekoctl's inventory puts in every namespace.
func systemObject(u *unstructured.Unstructured, parent string) bool {
	switch u.GetKind() {
	case "ConfigMap":
		return u.GetName() == "kube-root-ca.crt" || u.GetName() == parent
	case "ServiceAccount":
		return u.GetName() == "default"
	case "PersistentVolumeClaim":
		// Claims of a StatefulSet's volumeClaimTemplates ("data-neko-redis-0").
		return strings.HasSuffix(u.GetName(), "-"+RedisName+"-0") || strings.Contains(u.GetName(), "-"+RedisName+"-")
	}
	return false
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

// gatewayNote warns when the Gateway the route attaches to is missing or
// has no address yet: the region would not be served.
func (p *Provider) gatewayNote(ctx context.Context) string {
	r := p.st.Spec.Region(p.region)
	if r != nil && r.IngressAddress != "" {
		return ""
	}
	g := p.st.Spec.Workload.Exposure.Gateway
	addr, err := p.publicAddress(ctx)
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("Gateway %s/%s does not exist in this cluster: the route is not served and apply waits for its address", g.Namespace, g.Name)
	case err == nil && addr == "":
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

package kubernetes

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// knownKinds are the kinds the templates can produce, listed by Read in
// addition to those the inventory records.
var knownKinds = []schema.GroupKind{
	{Kind: "ServiceAccount"}, {Kind: "ConfigMap"}, {Kind: "Secret"}, {Kind: "Service"},
	{Group: "apps", Kind: "Deployment"}, {Group: "apps", Kind: "StatefulSet"},
	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}, {Group: "policy", Kind: "PodDisruptionBudget"},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, {Group: "networking.k8s.io", Kind: "Ingress"},
	{Group: "gateway.networking.k8s.io", Kind: "HTTPRoute"}, {Group: "gateway.networking.k8s.io", Kind: "ReferenceGrant"},
	{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}, {Group: "monitoring.coreos.com", Kind: "PrometheusRule"},
}

func gkString(gk schema.GroupKind) string {
	if gk.Group == "" {
		return gk.Kind
	}
	return gk.Kind + "." + gk.Group
}

func parseGK(s string) schema.GroupKind {
	kind, group, _ := strings.Cut(s, ".")
	return schema.GroupKind{Group: group, Kind: kind}
}

// owned reports whether a live object belongs to this stack's inventory.
func (p *Provider) owned(u *unstructured.Unstructured) bool {
	l := u.GetLabels()
	return l[LabelPartOf] == ApplySetID(p.st) && l[LabelStack] == p.st.Metadata.Name
}

// foreignError explains why an existing object is left alone.
func (p *Provider) foreignError(addr plan.Address) error {
	return fmt.Errorf("%s: exists and is not managed by nekoctl stack %q in region %s; nekoctl never modifies "+
		"objects it does not own: rename or remove it, or label it %s=%s to adopt it",
		addr, p.st.Metadata.Name, p.region, LabelPartOf, ApplySetID(p.st))
}

// mapping finds the resource of a group kind; ok is false when the cluster
// does not serve it (for example, a CRD that is not installed).
func (p *Provider) mapping(gk schema.GroupKind, version string) (*meta.RESTMapping, bool, error) {
	var vs []string
	if version != "" {
		vs = []string{version}
	}
	m, err := p.mapper.RESTMapping(gk, vs...)
	if err == nil {
		return m, true, nil
	}
	if meta.IsNoMatchError(err) {
		return nil, false, nil
	}
	return nil, false, err
}

// remap forgets the discovered kinds (memory and disk cache) and maps gvk
// again.
func (p *Provider) remap(gvk schema.GroupVersionKind) (*meta.RESTMapping, bool, error) {
	p.mapper.Reset()
	return p.mapping(gvk.GroupKind(), gvk.Version)
}

func (p *Provider) parentKey() types.NamespacedName {
	return types.NamespacedName{Namespace: p.st.Spec.Workload.Namespace, Name: inventoryName(p.st)}
}

func (p *Provider) parentObjKey() objKey {
	k := p.parentKey()
	return objKey{schema.GroupKind{Kind: "ConfigMap"}, k.Namespace, k.Name}
}

var configMapGVR = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// readParent returns the inventory, or nil when there is none.
func (p *Provider) readParent(ctx context.Context) (*unstructured.Unstructured, error) {
	k := p.parentKey()
	u, err := p.dyn.Resource(configMapGVR).Namespace(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return u, err
}

func parentKinds(u *unstructured.Unstructured) []schema.GroupKind {
	if u == nil {
		return nil
	}
	var out []schema.GroupKind
	for _, s := range strings.Split(u.GetAnnotations()[AnnotationGroupKinds], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, parseGK(s))
		}
	}
	return out
}

// inventory is what the provider knows of the ApplySet parent: whether it
// exists and the kinds it lists, from Read (or one GET when Apply runs
// without a Read), and the kinds the plan applies, so that the parent is
// written once per region, before the first object of a new kind.
type inventory struct {
	mu      sync.Mutex
	known   bool
	exists  bool
	kinds   map[string]bool
	planned []schema.GroupKind
}

// load records the parent as read (nil: there is none).
func (inv *inventory) load(u *unstructured.Unstructured) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.known, inv.exists, inv.kinds = true, u != nil, map[string]bool{}
	for _, gk := range parentKinds(u) {
		inv.kinds[gkString(gk)] = true
	}
}

// plan records the kinds the planned changes apply.
func (inv *inventory) plan(kinds []schema.GroupKind) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.planned = kinds
}

// ensureParent creates or extends the inventory so that it lists gk (and
// every kind the plan applies) before an object of that kind is applied
// (ApplySet: the parent's kinds are a superset of its members'). It writes
// at most once per run when the plan is known; gk may be empty (right
// after the namespace is created).
func (p *Provider) ensureParent(ctx context.Context, gk schema.GroupKind) error {
	inv := &p.inv
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if !inv.known {
		cur, err := p.readParent(ctx)
		if err != nil {
			return err
		}
		inv.known, inv.exists, inv.kinds = true, cur != nil, map[string]bool{}
		for _, k := range parentKinds(cur) {
			inv.kinds[gkString(k)] = true
		}
	}
	want := map[string]bool{}
	for k := range inv.kinds {
		want[k] = true
	}
	for _, k := range append(inv.planned, gk) {
		if k.Kind != "" && k.Kind != "Namespace" {
			want[gkString(k)] = true
		}
	}
	if inv.exists && len(want) == len(inv.kinds) {
		return nil
	}
	list := make([]string, 0, len(want))
	for k := range want {
		list = append(list, k)
	}
	sort.Strings(list)
	k := p.parentKey()
	parent := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": k.Name, "namespace": k.Namespace,
			"labels": map[string]any{
				LabelApplySetID: ApplySetID(p.st), LabelManagedBy: "nekoctl",
				LabelStack: p.st.Metadata.Name, LabelRegion: p.region,
			},
			"annotations": map[string]any{
				AnnotationApplySetTooling: "nekoctl/" + version.Version,
				AnnotationGroupKinds:      strings.Join(list, ","),
			},
		},
	}}
	if _, err := p.serverSideApply(ctx, configMapGVR, parent, true, false); err != nil {
		return err
	}
	inv.exists, inv.kinds = true, want
	return nil
}

// namespaceContents lists, at once, every kind the stack can own plus
// pods and claims in the workload namespace: what is left of the stack,
// and what belongs to others (see resources and systemObject).
func (p *Provider) namespaceContents(ctx context.Context) (members []*unstructured.Unstructured, foreign []string, err error) {
	ns := p.st.Spec.Workload.Namespace
	kinds := append([]schema.GroupKind{{Kind: "Pod"}, {Kind: "PersistentVolumeClaim"}}, knownKinds...)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(p.opts.MaxInFlight)
	for _, gk := range kinds {
		g.Go(func() error {
			m, ok, err := p.mapping(gk, "")
			if err != nil || !ok {
				return err
			}
			l, err := p.dyn.Resource(m.Resource).Namespace(ns).List(gctx, metav1.ListOptions{})
			if err != nil {
				return fmt.Errorf("listing %s: %w", gkString(gk), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for i := range l.Items {
				u := &l.Items[i]
				switch {
				case u.GetDeletionTimestamp() != nil || keyOf(u) == p.parentObjKey():
				case p.owned(u):
					members = append(members, u)
				case !ownedByController(u) && !systemObject(u):
					foreign = append(foreign, u.GetKind()+" "+u.GetName())
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	sort.Strings(foreign)
	return members, foreign, nil
}

// systemObject is what Kubernetes puts in every namespace, and the claims
// a StatefulSet's volumeClaimTemplates make ("data-neko-redis-0").
func systemObject(u *unstructured.Unstructured) bool {
	switch u.GetKind() {
	case "ConfigMap":
		return u.GetName() == "kube-root-ca.crt"
	case "ServiceAccount":
		return u.GetName() == "default"
	case "PersistentVolumeClaim":
		return strings.Contains(u.GetName(), "-"+RedisName+"-")
	}
	return false
}

// liveDoc turns a live object into a plan document: server-managed
// metadata and status are dropped, Secret data is decoded and masked.
// Only the maps it changes are copied (the object, its metadata and
// annotations, a Deployment's spec, a Secret's data); the rest is shared
// with u, which nothing changes in place (a deep copy of every object read
// was a good part of a plan's CPU). Neither u nor the document may be
// changed in place afterwards.
func liveDoc(u *unstructured.Unstructured) plan.Document {
	o := maps.Clone(u.Object)
	delete(o, "status")
	if md, ok := o["metadata"].(map[string]any); ok {
		md = maps.Clone(md)
		for _, k := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
			delete(md, k)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			ann = maps.Clone(ann)
			delete(ann, "deployment.kubernetes.io/revision")
			delete(ann, AnnotationPreviousRevision)
			md["annotations"] = ann
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
		o["metadata"] = md
	}
	if spec, ok := o["spec"].(map[string]any); ok && o["kind"] == "Deployment" {
		spec = maps.Clone(spec)
		delete(spec, "replicas") // the autoscaler's: nekoctl never sets it
		o["spec"] = spec
	}
	if o["kind"] == "Secret" {
		if data, ok := o["data"].(map[string]any); ok {
			masked := make(map[string]any, len(data))
			for k, v := range data {
				s, _ := v.(string)
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					s = string(b)
				}
				masked[k] = plan.NewSensitive(s)
			}
			o["data"] = masked
		}
	}
	return o
}

// isUnreachable reports errors that mean the API server did not answer.
func isUnreachable(err error) bool {
	if err == nil {
		return false
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return false
	}
	var ue *url.Error
	var oe *net.OpError
	return errors.As(err, &ue) || errors.As(err, &oe) || errors.Is(err, syscall.ECONNREFUSED)
}

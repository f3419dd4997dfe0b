package kubernetes

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"syscall"

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

func (p *Provider) parentKey() types.NamespacedName {
	return types.NamespacedName{Namespace: p.st.Spec.Workload.Namespace, Name: inventoryName(p.st)}
}

// readParent returns the inventory's group kinds, or nil when there is none.
func (p *Provider) readParent(ctx context.Context) (*unstructured.Unstructured, error) {
	k := p.parentKey()
	u, err := p.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).
		Namespace(k.Namespace).Get(ctx, k.Name, metav1.GetOptions{})
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

// ensureParent creates or extends the inventory so that it lists gk before
// an object of that kind is applied (ApplySet: the parent's kinds are a
// superset of its members').
func (p *Provider) ensureParent(ctx context.Context, gk schema.GroupKind) error {
	p.invMu.Lock()
	defer p.invMu.Unlock()
	cur, err := p.readParent(ctx)
	if err != nil {
		return err
	}
	kinds := map[string]bool{}
	for _, k := range parentKinds(cur) {
		kinds[gkString(k)] = true
	}
	if cur != nil && (gk.Kind == "" || kinds[gkString(gk)]) {
		return nil
	}
	if gk.Kind != "" {
		kinds[gkString(gk)] = true
	}
	list := make([]string, 0, len(kinds))
	for k := range kinds {
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
	_, err = p.manager.Apply(ctx, parent, ssaApplyOptions())
	return err
}

// listMembers lists the objects that carry this stack's part-of label in
// the workload namespace, for the inventory's kinds and the known kinds.
func (p *Provider) listMembers(ctx context.Context, parent *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	seen := map[string]bool{}
	var kinds []schema.GroupKind
	for _, gk := range append(parentKinds(parent), knownKinds...) {
		if !seen[gkString(gk)] && gk.Kind != "Namespace" {
			seen[gkString(gk)] = true
			kinds = append(kinds, gk)
		}
	}
	sel := LabelPartOf + "=" + ApplySetID(p.st)
	ns := p.st.Spec.Workload.Namespace
	var out []*unstructured.Unstructured
	for _, gk := range kinds {
		m, ok, err := p.mapping(gk, "")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		l, err := p.dyn.Resource(m.Resource).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", gkString(gk), err)
		}
		for i := range l.Items {
			u := &l.Items[i]
			if u.GetDeletionTimestamp() != nil || !p.owned(u) {
				continue
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// liveDoc turns a live object into a plan document: server-managed
// metadata and status are dropped, Secret data is decoded and masked.
func liveDoc(u *unstructured.Unstructured) plan.Document {
	o := u.DeepCopy().Object
	md, _ := o["metadata"].(map[string]any)
	for _, k := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
		delete(md, k)
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, "deployment.kubernetes.io/revision")
		if len(ann) == 0 {
			delete(md, "annotations")
		}
	}
	delete(o, "status")
	if o["kind"] == "Secret" {
		if data, ok := o["data"].(map[string]any); ok {
			for k, v := range data {
				s, _ := v.(string)
				if b, err := base64.StdEncoding.DecodeString(s); err == nil {
					s = string(b)
				}
				data[k] = plan.NewSensitive(s)
			}
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

package kubernetes

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// readNamed GETs one object and, with a snapshot, records the answer in it
// (the object, or that it is absent).
func (p *Provider) readNamed(ctx context.Context, snap *snapshot, gvr schema.GroupVersionResource, kind, ns, name string) (*unstructured.Unstructured, error) {
	u, err := p.dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
	if snap != nil {
		k := objKey{schema.GroupKind{Group: gvr.Group, Kind: kind}, ns, name}
		switch {
		case err == nil:
			snap.markRead(k, u)
		case apierrors.IsNotFound(err):
			snap.markRead(k, nil)
		}
	}
	return u, err
}

// liveReads answers the exposure checks' reads. With the plan's snapshot it
// answers from what Read fetched wherever that is the whole answer (a kind
// Read listed in the namespace, an object it read by name), so that a plan
// sends nothing more for its checks; everything else, and every read
// without a snapshot (status, the wait at the end of up), goes to the API
// server. What it answers from the snapshot is the snapshot's own object,
// not a copy: the checks only read it.
type liveReads struct {
	p    *Provider
	snap *snapshot
}

func (l liveReads) get(ctx context.Context, gvr schema.GroupVersionResource, kind, ns, name string) (*unstructured.Unstructured, error) {
	gk := schema.GroupKind{Group: gvr.Group, Kind: kind}
	if s := l.snap; s != nil {
		k := objKey{gk, ns, name}
		s.mu.Lock()
		u, found := s.objects[k]
		if !found {
			u, found = s.named[k]
		}
		known := found || s.listed[kindIn{gk, ns}]
		s.mu.Unlock()
		switch {
		case u != nil:
			return u, nil
		case known:
			return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
		}
	}
	return l.p.dyn.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
}

func (l liveReads) list(ctx context.Context, gvr schema.GroupVersionResource, kind, ns string) ([]unstructured.Unstructured, error) {
	gk := schema.GroupKind{Group: gvr.Group, Kind: kind}
	if s := l.snap; s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.listed[kindIn{gk, ns}] {
			var out []unstructured.Unstructured
			for k, u := range s.objects {
				if k.gk == gk && k.namespace == ns {
					out = append(out, *u)
				}
			}
			return out, nil
		}
	}
	l2, err := l.p.dyn.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return l2.Items, nil
}

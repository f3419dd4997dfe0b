package kubetest

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ListCustomResources lists, once, every custom resource the region's API
// server has a CRD for. An API server builds a CRD's watch cache on the
// first request for it, and until the cache is ready answers with 429 and
// Retry-After: 1, which clients wait out: a run that measures time would
// wait a second for the harness's fresh CRDs, where a real cluster's
// controllers listed them long before.
func (e *Env) ListCustomResources(ctx context.Context, region string) error {
	dc := e.Dynamic(region)
	crds, err := dc.Resource(crdGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("region %s: listing CRDs: %w", region, err)
	}
	var g errgroup.Group
	for _, crd := range crds.Items {
		gvr, ok := storedResource(crd.Object)
		if !ok {
			continue
		}
		g.Go(func() error {
			// client-go waits out the 429s itself.
			if _, err := dc.Resource(gvr).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
				return fmt.Errorf("region %s: listing %s: %w", region, gvr.GroupResource(), err)
			}
			return nil
		})
	}
	return g.Wait()
}

// storedResource is a CRD's resource at its storage version.
func storedResource(crd map[string]any) (schema.GroupVersionResource, bool) {
	group, _, _ := unstructured.NestedString(crd, "spec", "group")
	plural, _, _ := unstructured.NestedString(crd, "spec", "names", "plural")
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	for _, v := range versions {
		m, _ := v.(map[string]any)
		if stored, _ := m["storage"].(bool); stored {
			name, _ := m["name"].(string)
			return schema.GroupVersionResource{Group: group, Version: name, Resource: plural}, plural != ""
		}
	}
	return schema.GroupVersionResource{}, false
}

package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installCRDs applies every CRD found in dir and waits until each is established.
func installCRDs(ctx context.Context, dc dynamic.Interface, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reading CRDs: %w", err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var crds []string
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		objs, err := DecodeManifests(data)
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		for _, o := range objs {
			if o.GetKind() != "CustomResourceDefinition" {
				continue
			}
			body, err := o.MarshalJSON()
			if err != nil {
				return err
			}
			_, err = dc.Resource(crdGVR).Patch(ctx, o.GetName(), types.ApplyPatchType, body,
				metav1.PatchOptions{FieldManager: "kubetest", Force: ptr(true)})
			if err != nil {
				return fmt.Errorf("installing CRD %s: %w", o.GetName(), err)
			}
			crds = append(crds, o.GetName())
		}
	}
	for _, n := range crds {
		if err := waitEstablished(ctx, dc, n); err != nil {
			return err
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, dc dynamic.Interface, name string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		u, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("CRD %s not established after 30s", name)
}

// DecodeManifests splits multi-document YAML (or JSON) into objects,
// skipping empty documents.
func DecodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

func ptr[T any](v T) *T { return &v }

// operatorKind is one of the Prometheus Operator's custom resources.
type operatorKind struct{ kind, plural, version string }

// operatorKinds are the Prometheus Operator's resources the stand-in
// monitoring chart brings; a cluster "running the operator" gets the first
// two (operatorObjectKinds) by hand.
var operatorKinds = []operatorKind{
	{"ServiceMonitor", "servicemonitors", "v1"}, {"PrometheusRule", "prometheusrules", "v1"},
	{"AlertmanagerConfig", "alertmanagerconfigs", "v1alpha1"},
	{"Prometheus", "prometheuses", "v1"}, {"Alertmanager", "alertmanagers", "v1"},
}

var operatorObjectKinds = operatorKinds[:2]

func (k operatorKind) name() string { return k.plural + ".monitoring.coreos.com" }

// crd is the kind's CustomResourceDefinition with its schema left open:
// enough for the API server to serve and store the objects.
func (k operatorKind) crd() string {
	return fmt.Sprintf(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: %[5]s
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {kind: %[1]s, plural: %[2]s, listKind: %[1]sList, singular: %[3]s}
  versions:
    - name: %[4]s
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`, k.kind, k.plural, strings.ToLower(k.kind), k.version, k.name())
}

// InstallPrometheusOperatorCRDs installs minimal ServiceMonitor and
// PrometheusRule CRDs (monitoring.coreos.com/v1, schema left open), enough
// for a region to accept the monitoring objects as a cluster running the
// Prometheus Operator would.
func (e *Env) InstallPrometheusOperatorCRDs(ctx context.Context, region string) error {
	dir, err := os.MkdirTemp(e.dir, "crds-")
	if err != nil {
		return err
	}
	for _, k := range operatorObjectKinds {
		if err := os.WriteFile(filepath.Join(dir, k.plural+".yaml"), []byte(k.crd()), 0o644); err != nil {
			return err
		}
	}
	return installCRDs(ctx, e.Dynamic(region), dir)
}

// RemovePrometheusOperatorCRDs deletes the CRDs InstallPrometheusOperatorCRDs
// installs and waits until the region no longer serves their kinds, as a
// cluster whose operator was uninstalled.
func (e *Env) RemovePrometheusOperatorCRDs(ctx context.Context, region string) error {
	dc := e.Dynamic(region)
	for _, k := range operatorObjectKinds {
		if err := dc.Resource(crdGVR).Delete(ctx, k.name(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting CRD %s: %w", k.name(), err)
		}
	}
	disco := e.Clientset(region).Discovery()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		_, err := disco.ServerResourcesForGroupVersion("monitoring.coreos.com/v1")
		if apierrors.IsNotFound(err) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("region %s still serves monitoring.coreos.com/v1 30s after its CRDs were deleted", region)
}

package kubernetes

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestFingerprintIgnoresStatusButNotSpec(t *testing.T) {
	obj := func(rv string, image string, ready int64) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "neko-api", "namespace": "neko-defense", "resourceVersion": rv, "generation": int64(2)},
			"spec":     map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": image}}}}},
			"status":   map[string]any{"readyReplicas": ready},
		}}
	}
	planned := fingerprint(obj("894", "a:1", 2))
	if got := fingerprint(obj("901", "a:1", 3)); got != planned {
		t.Errorf("a status update moved the fingerprint: %s, now %s", planned, got)
	}
	scaled := obj("903", "a:1", 3)
	scaled.Object["spec"].(map[string]any)["replicas"] = int64(7)
	scaled.SetGeneration(3)
	if got := fingerprint(scaled); got != planned {
		t.Errorf("the autoscaler's replica count moved the fingerprint: %s, now %s", planned, got)
	}
	if got := fingerprint(obj("902", "a:2", 3)); got == planned {
		t.Errorf("an image change kept the fingerprint %s", got)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{"kind": "ConfigMap", "metadata": map[string]any{"resourceVersion": "7"}}}
	if got := fingerprint(cm); got != "7" {
		t.Errorf("an object without status: fingerprint %q, want its resourceVersion", got)
	}
}

package kubernetes

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestUnchangedReadsManagedFields: the local compare decides from
// nekoctl's managedFields entry of a Deployment as a real API server
// recorded it (testdata/lists): an apply of the same fields changes
// nothing; one that drops a field nekoctl owns, changes a value, or comes
// under another apiVersion or without nekoctl's entry is left to the
// server's dry-run.
func TestUnchangedReadsManagedFields(t *testing.T) {
	body, err := os.ReadFile(filepath.Join(listFixtures, "deployments.json"))
	if err != nil {
		t.Fatal(err)
	}
	var l unstructured.UnstructuredList
	if _, _, err := jsonDecoder(t, true).Decode(body, nil, &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) == 0 {
		t.Fatal("no Deployment in the fixture")
	}
	live := &l.Items[0]
	same := func() *unstructured.Unstructured {
		obj, err := toObject(liveDoc(live), nil)
		if err != nil {
			t.Fatal(err)
		}
		return obj
	}
	withoutEntry := live.DeepCopy()
	withoutEntry.SetManagedFields(nil)
	otherVersion := live.DeepCopy()
	mfs := otherVersion.GetManagedFields()
	for i := range mfs {
		mfs[i].APIVersion = "apps/v1beta2"
	}
	otherVersion.SetManagedFields(mfs)
	cases := []struct {
		name   string
		obj    func() *unstructured.Unstructured
		live   *unstructured.Unstructured
		answer bool
	}{
		{"same fields", same, live, true},
		{"an owned label dropped", func() *unstructured.Unstructured {
			obj := same()
			labels := obj.GetLabels()
			delete(labels, LabelStack)
			obj.SetLabels(labels)
			return obj
		}, live, false},
		{"a value changed", func() *unstructured.Unstructured {
			obj := same()
			_ = unstructured.SetNestedField(obj.Object, int64(7), "spec", "revisionHistoryLimit")
			return obj
		}, live, false},
		{"no entry of nekoctl", same, withoutEntry, false},
		{"entry of another apiVersion", same, otherVersion, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := unchanged(c.obj(), c.live); got != c.answer {
				t.Errorf("unchanged = %v, want %v", got, c.answer)
			}
		})
	}
}

package kubernetes

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// TestDocCache: a region rendered again through the cache gives the same
// documents as without it, decodes no file twice, and hands out copies, so
// that a change to one render's documents reaches no other.
func TestDocCache(t *testing.T) {
	st := testStack()
	region := st.Spec.Regions[0].Name
	render := func(c *docCache) []plan.Document {
		t.Helper()
		docs, err := objects(st, region, provider.NewOutputs(), keyPolicy{}, nil, c)
		if err != nil {
			t.Fatal(err)
		}
		return docs
	}
	want := render(nil)
	var c docCache
	first := render(&c)
	files := len(c.docs)
	if files == 0 {
		t.Fatal("nothing was cached")
	}
	first[0]["kind"] = "Changed"
	second := render(&c)
	if diff := cmp.Diff(want, second); diff != "" {
		t.Errorf("second render through the cache (-want +got):\n%s", diff)
	}
	if len(c.docs) != files {
		t.Errorf("the second render decoded %d more files, want none", len(c.docs)-files)
	}
}

// TestDocCacheAcrossRegions: every region's documents come out of the
// shared cache exactly as rendered alone, with the region's own name
// everywhere it appears (labels, the dashboard, the alerts), and the
// regions after the first decode no file again: the cost of a plan's
// rendering does not grow with its regions (only a region's own settings,
// such as its replicas, give it a file of its own).
func TestDocCacheAcrossRegions(t *testing.T) {
	st := testStack()
	var c docCache
	var texts int
	for i, r := range st.Spec.Regions {
		want, err := objects(st, r.Name, provider.NewOutputs(), keyPolicy{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := objects(st, r.Name, provider.NewOutputs(), keyPolicy{}, nil, &c)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s through the shared cache (-alone +shared):\n%s", r.Name, diff)
		}
		for _, d := range got {
			if labels, _ := d["metadata"].(map[string]any)["labels"].(map[string]any); labels != nil && labels[LabelRegion] != nil && labels[LabelRegion] != r.Name {
				t.Errorf("%s %s: region label %v", r.Name, nameOf(d), labels[LabelRegion])
			}
		}
		if strings.Contains(fmt.Sprint(got), regionToken) {
			t.Errorf("%s: the region's stand-in survived rendering", r.Name)
		}
		switch {
		case i == 0:
			texts = len(c.docs)
		case cmp.Equal(r.Replicas, st.Spec.Regions[0].Replicas) && cmp.Equal(r.Resources, st.Spec.Regions[0].Resources):
			if len(c.docs) != texts {
				t.Errorf("%s decoded %d files the first region had decoded already", r.Name, len(c.docs)-texts)
			}
		default: // its own replicas: its HorizontalPodAutoscaler's file alone
			if len(c.docs) != texts+1 {
				t.Errorf("%s decoded %d files, want only its HorizontalPodAutoscaler's", r.Name, len(c.docs)-texts)
			}
			texts = len(c.docs)
		}
	}
}

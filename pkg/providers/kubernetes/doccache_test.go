package kubernetes

import (
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

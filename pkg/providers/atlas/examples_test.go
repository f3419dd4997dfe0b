package atlas_test

import (
	"path/filepath"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// TestExamplesUpThenNoChanges brings up the repository's example stacks in
// the emulator and plans them again.
func TestExamplesUpThenNoChanges(t *testing.T) {
	for _, name := range []string{"global.yaml", "single-region.yaml"} {
		t.Run(name, func(t *testing.T) {
			l, err := spec.Load(filepath.Join("..", "..", "..", "examples", name))
			if err != nil {
				t.Fatalf("loading the example: %v", err)
			}
			st := l.Stack
			e := newEnv(t)
			e.srv.AddOrg(st.Spec.Atlas.OrgID)
			out := e.up(st)
			for _, c := range planWith(t, e.provider(st, false), out, provider.Options{}) {
				if c.Action != plan.NoOp {
					t.Errorf("%s %s %+v", c.Action, c.Address, c.Fields)
				}
			}
		})
	}
}

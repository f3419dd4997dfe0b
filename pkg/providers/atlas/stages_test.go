package atlas

import (
	"fmt"
	"strings"
	"testing"
)

func topo(pairs ...any) topology {
	t := topology{}
	for i := 0; i < len(pairs); i += 2 {
		t[pairs[i].(string)] = regionNodes{electable: pairs[i+1].(int)}
	}
	return t
}

// TestStagesKeepMajority checks every step keeps a majority of the step
// before and has a valid electable total.
func TestStagesKeepMajority(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cur, tgt topology
		steps    int
	}{
		{"tier only", topo("a", 1, "b", 1, "c", 1), topo("a", 1, "b", 1, "c", 1), 1},
		{"one region moves", topo("a", 1, "b", 1, "c", 1), topo("a", 1, "b", 1, "d", 1), 1},
		{"two regions move", topo("a", 1, "b", 1, "c", 1), topo("a", 1, "d", 1, "e", 1), 2},
		{"all move", topo("a", 1, "b", 1, "c", 1), topo("d", 1, "e", 1, "f", 1), 3},
		{"grow 3 to 5", topo("a", 1, "b", 1, "c", 1), topo("a", 2, "b", 2, "c", 1), 1},
		{"shrink 7 to 3", topo("a", 3, "b", 2, "c", 2), topo("a", 1, "b", 1, "c", 1), 2},
		{"primary region to three regions", topo("a", 3), topo("a", 1, "b", 1, "c", 1), 2},
		{"five regions to five others", topo("a", 1, "b", 1, "c", 1, "d", 1, "e", 1), topo("f", 1, "g", 1, "h", 1, "i", 1, "j", 1), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps := stages(tc.cur, tc.tgt)
			if len(steps) != tc.steps {
				t.Errorf("steps = %d, want %d: %v", len(steps), tc.steps, steps)
			}
			if !sameElectable(steps[len(steps)-1], tc.tgt) {
				t.Fatalf("does not end at the target: %v", steps)
			}
			prev := tc.cur
			for i, s := range steps {
				n := s.electable()
				if n != 3 && n != 5 && n != 7 {
					t.Errorf("step %d has %d electable nodes", i, n)
				}
				kept := 0
				for k, r := range s {
					kept += min(r.electable, prev[k].electable)
				}
				if kept < prev.electable()/2+1 {
					t.Errorf("step %d keeps %d of %d: %s", i, kept, prev.electable(), fmt.Sprint(s))
				}
				prev = s
			}
		})
	}
}

func TestVersionNote(t *testing.T) {
	for from, want := range map[string]string{"7.0": "rolling restart", "6.0": "one major release", "8.0": "does not downgrade"} {
		to := "8.0"
		if from == "8.0" {
			to = "7.0"
		}
		if got := versionNote(from, to); !strings.Contains(got, want) {
			t.Errorf("%s to %s: %q", from, to, got)
		}
	}
}

package apply

import (
	"testing"

	"github.com/neko-defense/nekoctl/internal/stacktest"
	"github.com/neko-defense/nekoctl/pkg/cmdutil"
)

// TestGuideStackBuiltByHandIsAdopted: `up` of the guide's stack built by
// hand refuses naming every conflict and writes nothing; `up --adopt` takes
// it over; the next plan is empty (stacktest.AdoptionJourney).
func TestGuideStackBuiltByHandIsAdopted(t *testing.T) {
	w := newWorld(t)
	stacktest.AdoptionJourney(t, w.World, w.runner)
}

// TestPartialRuns plans and applies parts of the guide's stack with
// --region and --target, refuses what matches nothing, then converges
// (stacktest.PartialRunsJourney).
func TestPartialRuns(t *testing.T) {
	w := newWorld(t)
	stacktest.PartialRunsJourney(t, w.World, w.runner)
}

// runner is a stacktest.Runner through w.cli: the journeys run here in the
// test's process, and through the built binary in cmd/nekoctl.
func (w *world) runner(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := w.cli(t, append(args, "-f", w.Spec)...)
	if err != nil {
		out += "\nError: " + err.Error()
	}
	return out, cmdutil.ExitCode(err)
}

package printer

import (
	"fmt"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// stagedWaves returns the rollout's waves when the plan changes the
// workload in any of them, else nil: a plan that leaves the Deployments
// alone has nothing to stage.
func stagedWaves(p *plan.Plan) []plan.Wave {
	if p.Rollout == nil {
		return nil
	}
	for _, w := range p.Rollout.Waves {
		if len(w.Changes) > 0 {
			return p.Rollout.Waves
		}
	}
	return nil
}

// rolloutHeading says how the waves run and what a failure does.
func rolloutHeading(r *plan.Rollout) string {
	then := "the failed regions are rolled back to their previous revision"
	if r.OnFailure != "rollback" {
		then = "the failed regions are left as they are"
	}
	return fmt.Sprintf("Rollout of the workload in %d wave(s): each starts once the one before is healthy; "+
		"a failed wave stops the rest and %s.", len(r.Waves), then)
}

// waveLine is one wave: its regions, bake time and how many workload
// changes it makes.
func waveLine(w plan.Wave) string {
	s := fmt.Sprintf("wave %d: %s", w.Number, strings.Join(w.Regions, ", "))
	var extra []string
	if w.Bake != "" {
		extra = append(extra, "bake "+w.Bake)
	}
	if len(w.Changes) == 0 {
		extra = append(extra, "no workload change")
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// rolloutText writes the waves section of the text plan.
func (t *textWriter) rollout(p *plan.Plan) {
	waves := stagedWaves(p)
	if waves == nil {
		return
	}
	t.line("")
	t.line("%s", t.paint(bold, rolloutHeading(p.Rollout)))
	for _, w := range waves {
		t.line("  %s", waveLine(w))
	}
}

// rolloutMarkdown is the waves section of the Markdown plan.
func rolloutMarkdown(p *plan.Plan) string {
	waves := stagedWaves(p)
	if waves == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%s\n\n", rolloutHeading(p.Rollout))
	for _, w := range waves {
		fmt.Fprintf(&b, "- %s\n", waveLine(w))
	}
	return b.String()
}

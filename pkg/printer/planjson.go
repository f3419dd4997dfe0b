package printer

import (
	"encoding/json"
	"io"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/version"
)

// jsonPlan is the machine rendering of a plan. Its format_version follows
// plan.FormatVersion; fields are only ever added within a major version.
type jsonPlan struct {
	FormatVersion  string            `json:"format_version"`
	NekoctlVersion string            `json:"nekoctl_version"`
	Stack          string            `json:"stack"`
	Summary        jsonSummary       `json:"summary"`
	Changes        []jsonChange      `json:"changes"`
	Diagnostics    []plan.Diagnostic `json:"diagnostics"`
	// Selection is set on a partial plan (--region, --target, --exclude).
	Selection *plan.Selection `json:"selection,omitempty"`
	// Rollout stages the workload changes region by region.
	Rollout *plan.Rollout `json:"rollout,omitempty"`
}

type jsonSummary struct {
	Add       int  `json:"add"`
	Change    int  `json:"change"`
	Destroy   int  `json:"destroy"`
	Unchanged int  `json:"unchanged"`
	Adopt     int  `json:"adopt"`
	Keep      int  `json:"keep"`
	Conflicts int  `json:"conflicts"`
	Errored   bool `json:"errored"`
	// Partial plans hold only a selection and what it needs; PulledIn counts the latter.
	Partial  bool `json:"partial"`
	PulledIn int  `json:"pulled_in,omitempty"`
}

// jsonChange flattens the address to one string for grepping and keeps its
// parts under "resource" for programs.
type jsonChange struct {
	Address  string       `json:"address"`
	Resource plan.Address `json:"resource"`
	plan.Change
}

// PlanJSON writes the plan as one JSON document.
func PlanJSON(w io.Writer, p *plan.Plan) error {
	s := p.Summary()
	out := jsonPlan{
		FormatVersion:  plan.FormatVersion,
		NekoctlVersion: version.Version,
		Stack:          p.Stack,
		Summary: jsonSummary{Add: s.Add, Change: s.Change, Destroy: s.Destroy, Unchanged: s.Unchanged,
			Adopt: s.Adopt, Keep: s.Keep, Conflicts: len(p.Conflicts()), Errored: p.HasErrors()},
		Changes:     make([]jsonChange, 0, len(p.Changes)),
		Diagnostics: p.Diagnostics,
		Selection:   p.Selection,
		Rollout:     p.Rollout,
	}
	out.Summary.Partial = p.Partial()
	if out.Diagnostics == nil {
		out.Diagnostics = []plan.Diagnostic{}
	}
	for _, c := range p.Changes {
		out.Changes = append(out.Changes, jsonChange{Address: c.Address.String(), Resource: c.Address, Change: c})
		if c.PulledInBy != nil {
			out.Summary.PulledIn++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

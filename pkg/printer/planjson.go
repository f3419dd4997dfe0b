package printer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"runtime"

	"golang.org/x/sync/errgroup"

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
	return writeStreamed(w, jsonDocument(p))
}

func jsonDocument(p *plan.Plan) jsonPlan {
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
	return out
}

// writeStreamed writes the plan as json.Encoder with a two-space indent
// would, one change at a time: a plan of thirty regions is megabytes of
// JSON, which would otherwise be held whole, twice (compact and indented),
// at the end of the run.
func writeStreamed(w io.Writer, out jsonPlan) error {
	changes := out.Changes
	out.Changes = []jsonChange{}
	head, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	const slot = "\n  \"changes\": []"
	at := bytes.Index(head, []byte(slot))
	if at < 0 || len(changes) == 0 {
		_, err := w.Write(append(head, '\n'))
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(head[:at+len(slot)-1])
	// Changes are encoded a batch at a time on every core (a thirty-region
	// plan spends a tenth of its CPU here, after everything else is done)
	// and written in order.
	const batch = 64
	bufs := make([][]byte, batch)
	workers := make([]*treeEncoder, min(runtime.GOMAXPROCS(0), batch))
	for w := range workers {
		workers[w] = newTreeEncoder("    ", "  ")
	}
	for start := 0; start < len(changes); start += batch {
		n := min(batch, len(changes)-start)
		var g errgroup.Group
		for w, e := range workers {
			g.Go(func() error {
				for i := w; i < n; i += len(workers) {
					b, err := e.change(bufs[i][:0], changes[start+i])
					if err != nil {
						return err
					}
					bufs[i] = b
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return err
		}
		for i, b := range bufs[:n] {
			if start+i == 0 {
				bw.WriteString("\n    ")
			} else {
				bw.WriteString(",\n    ")
			}
			bw.Write(b)
		}
	}
	bw.WriteString("\n  ]")
	bw.Write(head[at+len(slot):])
	bw.WriteByte('\n')
	return bw.Flush()
}

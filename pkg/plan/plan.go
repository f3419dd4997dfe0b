// Package plan is the data that `plan` shows and `up`/`down` follow: a closed
// set of actions on addressed resources with before/after documents. Apply
// never re-decides what the plan says.
package plan

import (
	"fmt"
	"sort"
)

// FormatVersion is carried by every JSON rendering of a plan. Bump the major
// number on incompatible changes.
const FormatVersion = "1.0"

// Action is what apply does to one resource.
type Action string

const (
	NoOp    Action = "no-op"
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Delete  Action = "delete"
	// Adopt takes over a live object that has the identity nekoctl would
	// create but no ownership marker: it marks it owned and updates the
	// owned fields (`--adopt`).
	Adopt Action = "adopt"
	// Keep is a container (Atlas project, namespace) that a teardown or prune
	// would delete but that holds objects nekoctl does not own: it is
	// released, not deleted, and the reason says what kept it.
	Keep Action = "keep"
)

// Symbol is the one-column marker of the human rendering.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Update:
		return "~"
	case Replace:
		return "-/+"
	case Delete:
		return "-"
	case Adopt:
		return "<="
	case Keep:
		return "="
	}
	return " "
}

// Address names a resource across providers. Scope is where it lives:
// "zone/example.com", "account/<id>", "project/<name>", "region/us-east".
type Address struct {
	Provider string `json:"provider"`
	Scope    string `json:"scope"`
	Region   string `json:"region,omitempty"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

func (a Address) String() string {
	return fmt.Sprintf("%s[%s].%s[%q]", a.Provider, a.Scope, a.Kind, a.Name)
}

// Group is how renderings group changes: provider and region.
func (a Address) Group() string {
	if a.Region != "" {
		return a.Provider + " (" + a.Region + ")"
	}
	return a.Provider
}

// Change is one planned action. Before is the live document (nil on create),
// After the desired one (nil on delete). Both carry only the fields nekoctl
// owns, with secrets wrapped in Sensitive and outputs not yet known in Unknown.
type Change struct {
	Address Address  `json:"address"`
	Action  Action   `json:"action"`
	Reason  string   `json:"reason,omitempty"`
	ID      string   `json:"id,omitempty"`
	Before  Document `json:"before,omitempty"`
	After   Document `json:"after,omitempty"`
	Fields  []Field  `json:"fields,omitempty"`
	// DependsOn lists resources that must be applied before this one.
	DependsOn []Address `json:"depends_on,omitempty"`
	// Produces names the outputs this change publishes (see provider.Outputs).
	Produces []string `json:"produces,omitempty"`
	// Notes are provider remarks shown beside the change (retired settings,
	// protected resources, rotations).
	Notes []string `json:"notes,omitempty"`
	// Fingerprint identifies the live object the change was planned against
	// (Kubernetes resourceVersion, Cloudflare modified_on, Atlas state and
	// the fields read); a saved plan is stale when it no longer matches.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Conflict, when set, says why the change cannot be applied as planned
	// (an unowned object in the way); `up` refuses a plan with conflicts.
	Conflict string `json:"conflict,omitempty"`
	// PulledInBy, in a partial plan, names the selected change that needs
	// this one, which the selection did not name itself.
	PulledInBy *Address `json:"pulled_in_by,omitempty"`
}

// Diagnostic is a warning or error not tied to one change.
type Diagnostic struct {
	Severity string `json:"severity"`
	Provider string `json:"provider,omitempty"`
	Region   string `json:"region,omitempty"`
	Message  string `json:"message"`
}

// Plan is the whole set of changes of one run.
type Plan struct {
	Stack       string       `json:"stack"`
	Changes     []Change     `json:"changes"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
	// Selection is set on a partial plan: what it was limited to.
	Selection *Selection `json:"selection,omitempty"`
	// Rollout stages the workload changes region by region.
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Partial reports whether the plan holds only a selection of the changes.
func (p *Plan) Partial() bool { return p.Selection != nil && !p.Selection.Empty() }

// Summary counts the actions; replace counts as both an add and a destroy.
type Summary struct {
	Add, Change, Destroy, Unchanged int
	// Adopt counts live objects taken over; Keep counts containers released
	// instead of deleted. Neither is in Add, Change or Destroy.
	Adopt, Keep int
}

func (p *Plan) Summary() Summary {
	var s Summary
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			s.Add++
		case Update:
			s.Change++
		case Replace:
			s.Add++
			s.Destroy++
		case Delete:
			s.Destroy++
		case Adopt:
			s.Adopt++
		case Keep:
			s.Keep++
		default:
			s.Unchanged++
		}
	}
	return s
}

// HasChanges reports whether applying would do anything.
func (p *Plan) HasChanges() bool {
	s := p.Summary()
	return s.Add+s.Change+s.Destroy+s.Adopt+s.Keep > 0
}

// Conflicts returns the changes that cannot be applied as planned.
func (p *Plan) Conflicts() []Change {
	var out []Change
	for _, c := range p.Changes {
		if c.Conflict != "" {
			out = append(out, c)
		}
	}
	return out
}

// HasErrors reports whether any part of the plan failed.
func (p *Plan) HasErrors() bool {
	for _, d := range p.Diagnostics {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	// SeverityInfo is what a provider learned while planning (a zone's tier and status).
	SeverityInfo = "info"
)

// Sort orders changes by provider, region, kind and name so that renderings
// are stable.
func (p *Plan) Sort() {
	sort.SliceStable(p.Changes, func(i, j int) bool {
		a, b := p.Changes[i].Address, p.Changes[j].Address
		if providerRank(a.Provider) != providerRank(b.Provider) {
			return providerRank(a.Provider) < providerRank(b.Provider)
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.Scope != b.Scope {
			return a.Scope < b.Scope
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Name < b.Name
	})
}

func providerRank(p string) int {
	switch p {
	case "cloudflare":
		return 0
	case "atlas":
		return 1
	case "kubernetes":
		return 2
	}
	return 3
}

package planfile

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Problem is one reason a saved plan no longer holds. Address is empty for
// problems of the whole plan (spec, version).
type Problem struct {
	Address string
	Reason  string
}

// StaleError refuses a saved plan, naming every difference found.
type StaleError struct{ Problems []Problem }

func (e *StaleError) Error() string {
	lines := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		if p.Address == "" {
			lines = append(lines, "  * "+p.Reason)
		} else {
			lines = append(lines, fmt.Sprintf("  * %s: %s", p.Address, p.Reason))
		}
	}
	return fmt.Sprintf("the saved plan is stale, nothing was applied (%d difference(s)):\n%s\n"+
		"Make a new plan with 'nekoctl plan -out FILE'.", len(e.Problems), strings.Join(lines, "\n"))
}

// CheckHeader compares what needs no remote read: the nekoctl version and
// the spec digest. It runs before anything is contacted.
func CheckHeader(f *File, nekoctlVersion, specDigest string) error {
	var probs []Problem
	if f.NekoctlVersion != nekoctlVersion {
		probs = append(probs, Problem{Reason: fmt.Sprintf("planned with nekoctl %s, this is nekoctl %s", f.NekoctlVersion, nekoctlVersion)})
	}
	if f.Spec.Digest != specDigest {
		probs = append(probs, Problem{Reason: fmt.Sprintf("the spec changed since the plan (%s)", f.Spec.Path)})
	}
	if len(probs) > 0 {
		return &StaleError{Problems: probs}
	}
	return nil
}

// Check compares the saved plan with a fresh plan of the same resources,
// made with the same options, and returns the plan to apply: the fresh
// changes of exactly the saved addresses, in the saved order, which carry
// the secret values and outputs the file never held. A saved change is
// stale when the fresh one is missing or plans another action, when the
// live fingerprint differs, or when the live or desired document differs
// (compared masked, so this also catches providers that set no fingerprint).
func Check(f *File, fresh *plan.Plan) (*plan.Plan, error) {
	if fresh.HasErrors() {
		var msgs []string
		for _, d := range fresh.Diagnostics {
			if d.Severity == plan.SeverityError {
				msgs = append(msgs, "  * "+d.Message)
			}
		}
		return nil, fmt.Errorf("reading the planned resources again failed, nothing was applied:\n%s", strings.Join(msgs, "\n"))
	}
	byAddr := make(map[plan.Address]plan.Change, len(fresh.Changes))
	for _, c := range fresh.Changes {
		byAddr[c.Address] = c
	}
	// The saved plan's selection and rollout waves stay as shown; the spec,
	// which the waves come from, is the same.
	out := &plan.Plan{Stack: f.Plan.Stack, Changes: make([]plan.Change, 0, len(f.Plan.Changes)),
		Selection: f.Plan.Selection, Rollout: f.Plan.Rollout}
	var probs []Problem
	for _, s := range f.Plan.Changes {
		c, ok := byAddr[s.Address]
		if !ok {
			probs = append(probs, Problem{Address: s.Address.String(), Reason: fmt.Sprintf("planned to %s, no longer planned at all", s.Action)})
			continue
		}
		if reason := compare(s, c); reason != "" {
			probs = append(probs, Problem{Address: s.Address.String(), Reason: reason})
			continue
		}
		c.PulledInBy = s.PulledInBy
		out.Changes = append(out.Changes, c)
	}
	if len(probs) > 0 {
		return nil, &StaleError{Problems: probs}
	}
	return out, nil
}

func compare(saved, fresh plan.Change) string {
	var reasons []string
	changed := ""
	if saved.Fingerprint != fresh.Fingerprint {
		changed = fmt.Sprintf("changed since the plan (live version %s, now %s)", orNone(saved.Fingerprint), orNone(fresh.Fingerprint))
	}
	switch {
	case saved.Before == nil && fresh.Before != nil:
		changed = "created since the plan"
	case saved.Before != nil && fresh.Before == nil:
		changed = "deleted since the plan"
	default:
		if d := plan.DiffDocuments(saved.Before, masked(fresh.Before), false); len(d) > 0 {
			if changed == "" {
				changed = "changed since the plan"
			}
			changed += ": " + describe(d)
		}
	}
	if changed != "" {
		reasons = append(reasons, changed)
	}
	if saved.Action != fresh.Action {
		reasons = append(reasons, fmt.Sprintf("planned to %s, it would now %s", saved.Action, fresh.Action))
	}
	if saved.Conflict != fresh.Conflict {
		reasons = append(reasons, fmt.Sprintf("conflict %q, now %q", saved.Conflict, fresh.Conflict))
	}
	if len(reasons) == 0 {
		if d := plan.DiffDocuments(saved.After, masked(fresh.After), false); len(d) > 0 {
			reasons = append(reasons, "the planned values differ now: "+describe(d))
		}
	}
	return strings.Join(reasons, "; ")
}

// masked is the document as the plan file holds it.
func masked(d plan.Document) plan.Document {
	if d == nil {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		return plan.Document{"unencodable": err.Error()}
	}
	var out plan.Document
	if err := json.Unmarshal(b, &out); err != nil {
		return plan.Document{"undecodable": err.Error()}
	}
	return restoreDoc(out)
}

func describe(fields []plan.Field) string {
	const show = 3
	parts := make([]string, 0, show)
	for i, f := range fields {
		if i == show {
			parts = append(parts, fmt.Sprintf("and %d more", len(fields)-show))
			break
		}
		parts = append(parts, fmt.Sprintf("%s %s → %s", f.Path, shorten(printer.Value(f.Before)), shorten(printer.Value(f.After))))
	}
	return strings.Join(parts, ", ")
}

// shorten keeps a refusal readable when a value is a whole document.
func shorten(s string) string {
	const most = 60
	if r := []rune(s); len(r) > most {
		return string(r[:most-1]) + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// Involved returns the providers `up FILE` reads again: those of the
// planned resources. The global providers (Cloudflare, Atlas) are always
// read, because every region's desired state consumes what they publish
// (the connection string, the origin certificate) and they consume what
// every region publishes (addresses, the current password).
func Involved(p *plan.Plan, all []provider.Provider) []provider.Provider {
	type key struct{ name, region string }
	planned := map[key]bool{}
	global := false
	for _, c := range p.Changes {
		planned[key{c.Address.Provider, c.Address.Region}] = true
		if c.Address.Region == "" {
			global = true
		}
	}
	var out []provider.Provider
	for _, pr := range all {
		if global || pr.Region() == "" || planned[key{pr.Name(), pr.Region()}] {
			out = append(out, pr)
		}
	}
	return out
}

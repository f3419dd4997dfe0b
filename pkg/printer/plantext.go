// Package printer renders plans, events and diagnostics for people (text)
// and machines (JSON). Every rendering is built from the same plan data.
package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// TextOptions tune the human rendering.
type TextOptions struct {
	Color bool
	// ShowUnchanged lists no-op resources too.
	ShowUnchanged bool
	// Compact omits the fields of created resources.
	Compact bool
}

const (
	green  = "\x1b[32m"
	yellow = "\x1b[33m"
	red    = "\x1b[31m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// PlanText writes the human diff: changes grouped by provider and region,
// field-level changes, and the summary line.
func PlanText(w io.Writer, p *plan.Plan, o TextOptions) error {
	pw := &textWriter{w: w, color: o.Color}
	if !p.HasChanges() && !p.HasErrors() {
		pw.line("No changes. Stack %q matches the spec.", p.Stack)
	} else {
		pw.line("nekoctl will perform the following actions on stack %q:", p.Stack)
	}
	group := ""
	for _, c := range p.Changes {
		if c.Action == plan.NoOp && !o.ShowUnchanged && len(c.Notes) == 0 {
			continue
		}
		if g := c.Address.Group(); g != group {
			group = g
			pw.line("")
			pw.line("%s", pw.paint(bold, g))
		}
		pw.change(c, o)
	}
	pw.rollout(p)
	for _, d := range p.Diagnostics {
		pw.line("")
		pw.line("%s: %s", pw.paint(severityColor(d.Severity), strings.ToUpper(d.Severity[:1])+d.Severity[1:]), d.Message)
	}
	pw.line("")
	pw.line("%s", SummaryLine(p))
	return pw.err
}

type textWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *textWriter) line(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
	}
}

func (t *textWriter) paint(c, s string) string {
	if !t.color {
		return s
	}
	return c + s + reset
}

func actionColor(a plan.Action) string {
	switch a {
	case plan.Create:
		return green
	case plan.Update:
		return yellow
	case plan.Replace, plan.Delete:
		return red
	case plan.Adopt, plan.Keep:
		return yellow
	}
	return ""
}

func severityColor(s string) string {
	if s == plan.SeverityError {
		return red
	}
	return yellow
}

func (t *textWriter) change(c plan.Change, o TextOptions) {
	sym := fmt.Sprintf("%-3s", c.Action.Symbol())
	head := fmt.Sprintf("  %s %s %q", t.paint(actionColor(c.Action), sym), c.Address.Kind, c.Address.Name)
	if c.Reason != "" && c.Action != plan.NoOp {
		head += "  (" + c.Reason + ")"
	}
	if c.PulledInBy != nil {
		head += "  (" + pulledIn(c) + ")"
	}
	if c.Conflict != "" {
		head += "  " + t.paint(red, "conflict: "+c.Conflict)
	}
	t.line("%s", head)
	switch c.Action {
	case plan.Create:
		if !o.Compact {
			for _, f := range Flatten(c.After) {
				t.line("        %s = %s", f.Path, Value(f.After))
			}
		}
	case plan.Update, plan.Replace, plan.Adopt:
		for _, f := range c.Fields {
			t.line("        %s: %s → %s", f.Path, Value(f.Before), Value(f.After))
		}
	}
	for _, n := range c.Notes {
		t.line("        # %s", n)
	}
}

// Flatten lists a document's leaves with their paths, in sorted order.
func Flatten(doc plan.Document) []plan.Field {
	var out []plan.Field
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, x[k])
			}
		case []any:
			if len(x) == 0 {
				out = append(out, plan.Field{Path: path, After: x})
			}
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		default:
			out = append(out, plan.Field{Path: path, After: v})
		}
	}
	walk("", doc)
	return out
}

// Value renders one leaf: strings quoted, secrets masked, unknowns named.
func Value(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case plan.Sensitive:
		return plan.Mask
	case plan.Unknown:
		return x.String()
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		if len(x) == 0 {
			return "[]"
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// SummaryLine is the plan's one-line count, the same in every rendering.
func SummaryLine(p *plan.Plan) string {
	s := p.Summary()
	line := fmt.Sprintf("Plan: %d to add, %d to change, %d to destroy", s.Add, s.Change, s.Destroy)
	if s.Adopt > 0 {
		line += fmt.Sprintf(", %d to adopt", s.Adopt)
	}
	if s.Keep > 0 {
		line += fmt.Sprintf(", %d to keep", s.Keep)
	}
	if n := len(p.Conflicts()); n > 0 {
		line += fmt.Sprintf(", %d conflict(s)", n)
	}
	if p.Partial() {
		line += " (partial: " + p.Selection.String()
		pulled := 0
		for _, c := range p.Changes {
			if c.PulledInBy != nil {
				pulled++
			}
		}
		if pulled > 0 {
			line += fmt.Sprintf("; %d pulled in as dependencies", pulled)
		}
		line += ")"
	}
	return line + "."
}

// pulledIn says why a partial plan holds a change its selection did not name.
func pulledIn(c plan.Change) string {
	return "pulled in: " + c.PulledInBy.String() + " needs it"
}

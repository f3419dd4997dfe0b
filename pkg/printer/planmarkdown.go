package printer

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// GitHubCommentLimit is the most characters GitHub accepts in one comment.
const GitHubCommentLimit = 65536

// MarkdownOptions tune the pull-request rendering.
type MarkdownOptions struct {
	// Limit is the most characters to write; 0 means GitHubCommentLimit.
	Limit int
	// Title heads the comment; empty gives "nekoctl plan".
	Title string
}

// PlanMarkdown writes the plan for a pull-request comment: the summary line,
// warnings, and one collapsible section per provider and region with the
// field diffs, secrets masked. When it would exceed the limit, sections lose
// their field diffs first and are then left out, and a closing note says
// what was left out.
func PlanMarkdown(w io.Writer, p *plan.Plan, o MarkdownOptions) error {
	limit := o.Limit
	if limit <= 0 {
		limit = GitHubCommentLimit
	}
	title := o.Title
	if title == "" {
		title = "nekoctl plan"
	}
	var head strings.Builder
	fmt.Fprintf(&head, "### %s: stack `%s`\n\n", title, p.Stack)
	if !p.HasChanges() && !p.HasErrors() {
		fmt.Fprintf(&head, "No changes. Stack `%s` matches the spec.\n\n", p.Stack)
	}
	fmt.Fprintf(&head, "**%s**\n", SummaryLine(p))
	head.WriteString(rolloutMarkdown(p))
	for _, d := range p.Diagnostics {
		kind := "WARNING"
		if d.Severity == plan.SeverityError {
			kind = "CAUTION"
		}
		fmt.Fprintf(&head, "\n> [!%s]\n> %s\n", kind, strings.ReplaceAll(d.Message, "\n", "\n> "))
	}
	groups := groupChanges(p)
	// The note is written last but its room is kept from the start.
	const noteRoom = 600
	budget := limit - noteRoom - runes(head.String())
	var body strings.Builder
	var cutFields []string
	var leftOut []string
	for _, g := range groups {
		full := g.markdown(true)
		if runes(full) <= budget {
			body.WriteString(full)
			budget -= runes(full)
			continue
		}
		if short := g.markdown(false); runes(short) <= budget {
			body.WriteString(short)
			budget -= runes(short)
			cutFields = append(cutFields, g.name)
			continue
		}
		leftOut = append(leftOut, fmt.Sprintf("%s (%d resource(s))", g.name, len(g.changes)))
	}
	out := head.String() + body.String()
	if len(cutFields)+len(leftOut) > 0 {
		note := "\n> [!NOTE]\n> This plan was cut to fit GitHub's 65,536-character comment limit."
		if len(cutFields) > 0 {
			note += " Field diffs left out: " + listNames(cutFields, 8) + "."
		}
		if len(leftOut) > 0 {
			note += " Sections left out: " + listNames(leftOut, 8) + "."
		}
		note += " The whole plan: `nekoctl show PLANFILE`.\n"
		out += note
	}
	_, err := io.WriteString(w, out)
	return err
}

// mdGroup is one provider and region with its visible changes.
type mdGroup struct {
	name    string
	changes []plan.Change
}

func groupChanges(p *plan.Plan) []mdGroup {
	var out []mdGroup
	for _, c := range p.Changes {
		if c.Action == plan.NoOp && len(c.Notes) == 0 {
			continue
		}
		g := c.Address.Group()
		if len(out) == 0 || out[len(out)-1].name != g {
			out = append(out, mdGroup{name: g})
		}
		out[len(out)-1].changes = append(out[len(out)-1].changes, c)
	}
	return out
}

// markdown renders the section, with field diffs when fields is set.
func (g mdGroup) markdown(fields bool) string {
	var lines []string
	for _, c := range g.changes {
		head := fmt.Sprintf("%-3s %s %q", c.Action.Symbol(), c.Address.Kind, c.Address.Name)
		if c.Reason != "" && c.Action != plan.NoOp {
			head += "  (" + c.Reason + ")"
		}
		if c.PulledInBy != nil {
			head += "  (" + pulledIn(c) + ")"
		}
		if c.Conflict != "" {
			head += "  conflict: " + c.Conflict
		}
		lines = append(lines, head)
		if fields {
			switch c.Action {
			case plan.Create:
				for _, f := range Flatten(c.After) {
					lines = append(lines, fmt.Sprintf("      %s = %s", f.Path, Value(f.After)))
				}
			case plan.Update, plan.Replace, plan.Adopt:
				for _, f := range c.Fields {
					lines = append(lines, fmt.Sprintf("      %s: %s → %s", f.Path, Value(f.Before), Value(f.After)))
				}
			}
		}
		for _, n := range c.Notes {
			lines = append(lines, "      # "+n)
		}
	}
	code := strings.Join(lines, "\n")
	fence := "```"
	for strings.Contains(code, fence) {
		fence += "`"
	}
	sub := &plan.Plan{Changes: g.changes}
	return fmt.Sprintf("\n<details><summary><b>%s</b>: %s</summary>\n\n%sdiff\n%s\n%s\n\n</details>\n",
		g.name, strings.TrimSuffix(strings.TrimPrefix(SummaryLine(sub), "Plan: "), "."), fence, code, fence)
}

func listNames(names []string, show int) string {
	if len(names) <= show {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:show], ", "), len(names)-show)
}

func runes(s string) int { return utf8.RuneCountInString(s) }

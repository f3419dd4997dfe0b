package provider

import (
	"fmt"
	"sort"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// DiffResources is the common diff: desired without live is a create; live
// without desired is a delete (live holds only owned resources); both with
// differing documents is an update, or a replace when a ReplaceOn path
// changed. Unknown desired values match whatever is live. A live object
// marked Unowned is adopted with opts.Adopt and a conflict otherwise, and is
// never deleted; a live container holding Foreign objects is kept. Providers
// with special rules filter or adjust the documents before calling it.
func DiffResources(desired, live []Resource, opts Options) []plan.Change {
	liveBy := map[plan.Address]Resource{}
	for _, r := range live {
		liveBy[r.Address] = r
	}
	depsOf := map[plan.Address][]plan.Address{}
	for _, d := range desired {
		depsOf[d.Address] = d.DependsOn
	}
	var out []plan.Change
	if !opts.Destroy {
		for _, d := range desired {
			l, exists := liveBy[d.Address]
			delete(liveBy, d.Address)
			c := plan.Change{Address: d.Address, After: d.Doc, DependsOn: d.DependsOn, Produces: d.Produces, Notes: d.Notes}
			if !exists {
				c.Action = plan.Create
				out = append(out, c)
				continue
			}
			c.ID, c.Before, c.Fingerprint = l.ID, l.Doc, l.Fingerprint
			c.Fields = plan.DiffDocuments(l.Doc, d.Doc, true)
			if l.Unowned {
				c.Action = plan.Adopt
				if !opts.Adopt {
					c.Conflict = ConflictUnowned
				}
				out = append(out, c)
				continue
			}
			switch {
			case len(c.Fields) == 0:
				c.Action = plan.NoOp
			case replaceReason(c.Fields, d.ReplaceOn) != "":
				c.Action, c.Reason = plan.Replace, replaceReason(c.Fields, d.ReplaceOn)
			default:
				c.Action = plan.Update
			}
			out = append(out, c)
		}
	}
	rest := make([]Resource, 0, len(liveBy))
	for _, r := range liveBy {
		rest = append(rest, r)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Address.String() < rest[j].Address.String() })
	for _, l := range rest {
		if l.Unowned {
			continue
		}
		// Deletes keep the dependencies the spec declares (live objects rarely
		// record them) so that the engine removes dependents first.
		deps := l.DependsOn
		if d, ok := depsOf[l.Address]; ok {
			deps = d
		}
		c := plan.Change{Address: l.Address, Action: plan.Delete, ID: l.ID, Before: l.Doc, DependsOn: deps, Notes: l.Notes,
			Fingerprint: l.Fingerprint}
		// A teardown needs no reason on every line; a prune does.
		if !opts.Destroy {
			c.Reason = "no longer in the spec"
		}
		if len(l.Foreign) > 0 {
			// --force changes protection, not ownership.
			c.Action, c.Reason = plan.Keep, KeepReason(l.Foreign)
		} else if l.Protected && !opts.Force {
			c.Action = plan.NoOp
			c.Notes = append(c.Notes, "protected: kept; pass --force to delete it")
		}
		out = append(out, c)
	}
	return out
}

func replaceReason(fields []plan.Field, replaceOn []string) string {
	var hit []string
	for _, f := range fields {
		for _, p := range replaceOn {
			if f.Path == p || strings.HasPrefix(f.Path, p+".") || strings.HasPrefix(f.Path, p+"[") {
				hit = append(hit, f.Path)
				break
			}
		}
	}
	if len(hit) == 0 {
		return ""
	}
	return fmt.Sprintf("%s cannot change in place", strings.Join(hit, ", "))
}

// ConflictUnowned is the conflict of a live object that nekoctl would create
// but does not own.
const ConflictUnowned = "exists without this stack's ownership marker; pass --adopt to take it over"

// KeepReason says why a container is kept instead of deleted.
func KeepReason(foreign []string) string {
	const show = 5
	list := foreign
	more := ""
	if len(list) > show {
		list, more = list[:show], fmt.Sprintf(" and %d more", len(foreign)-show)
	}
	return fmt.Sprintf("kept: holds objects nekoctl does not own (%s%s)", strings.Join(list, ", "), more)
}

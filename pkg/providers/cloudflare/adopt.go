package cloudflare

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// Adoption. A live object with the identity nekoctl would create but
// without the stack's marker is read Unowned, so the plan shows it as a
// conflict with its field differences, and `--adopt` takes it over: the
// apply writes the marker with the owned fields. Identities:
//   - DNS record: an A, AAAA or CNAME record at one of the stack's
//     hostnames (other types never collide with the stack's records);
//   - load balancer: its name, the load-balanced hostname (unique in the
//     zone);
//   - pool: the name nekoctl gives a region's pool;
//   - monitor: monitors have no name, so the one the stack's pools use, else
//     one that checks the stack's hostname.
//
// Ruleset rules are matched by the ref nekoctl gives them, which a rule made
// in the dashboard never has: such rules stay others' rules, kept and
// counted against the plan's limits. Zone settings and Origin CA
// certificates carry no marker at all, so they need no adoption: settings
// are compared with the spec, certificates matched by their hostnames.
//
// An object that carries another stack's marker is never adopted: the
// change keeps a conflict naming that stack.

// otherStack returns the stack named by a nekoctl ownership marker.
func otherStack(marker string) (string, bool) {
	return strings.CutPrefix(marker, Marker(""))
}

// addressRecord reports whether a record type can collide with the stack's
// records.
func addressRecord(typ string) bool { return typ == "A" || typ == "AAAA" || typ == "CNAME" }

// stackHost is one hostname the stack keeps a DNS record at.
type stackHost struct {
	name string // as addressed
	typ  string // the record's type, "" while it follows an unknown address
}

// unownedRecords reads the records made by hand at the stack's hostnames
// (at names where the stack owns no record). When several share a name, the
// one of the type the stack wants is adopted and the others are deleted
// with its adoption (a CNAME cannot share its name, and the stack's record
// is the only one it serves). Records at the load-balanced hostname, while
// the load balancer answers for it, are only reported (see Diagnostics).
func (p *Provider) unownedRecords(st *liveState, recs []obj, owned map[string]int) []provider.Resource {
	want := map[string]stackHost{}
	for _, d := range p.desiredDNS(nil) {
		typ, _ := d.Doc["type"].(string)
		want[strings.ToLower(d.Address.Name)] = stackHost{name: d.Address.Name, typ: typ}
	}
	lbHost := strings.ToLower(p.lbHost())
	byName := map[string][]obj{}
	var names []string
	for _, r := range recs {
		n := strings.ToLower(str(r, "name"))
		if str(r, "comment") == p.marker() || owned[n] > 0 || !addressRecord(str(r, "type")) {
			continue
		}
		if _, ok := want[n]; !ok {
			if n == lbHost && p.lbEnabled() {
				st.shadowed = append(st.shadowed, r)
			}
			continue
		}
		if byName[n] == nil {
			names = append(names, n)
		}
		byName[n] = append(byName[n], r)
	}
	var out []provider.Resource
	for _, n := range names {
		group, h := byName[n], want[n]
		keep := pick(group, func(o obj) bool { return str(o, "type") == h.typ })
		addr := p.zoneAddr(KindDNSRecord, h.name)
		var extras []obj
		stamps := []string{str(group[keep], "modified_on")}
		for i, r := range group {
			if i != keep {
				extras = append(extras, r)
				stamps = append(stamps, str(r, "id")+"@"+str(r, "modified_on"))
			}
		}
		if len(extras) > 0 {
			st.adoptExtra[addr] = extras
		}
		out = append(out, provider.Resource{Address: addr, ID: str(group[keep], "id"), Doc: recordDoc(group[keep]), Unowned: true,
			Fingerprint: strings.Join(stamps, ",")})
	}
	return out
}

// adoptConflict completes a planned adoption: a conflict when another
// stack owns the object, and a note on records deleted with it.
func (p *Provider) adoptConflict(c *plan.Change) {
	for _, k := range []string{"comment", "description"} {
		if other, ok := otherStack(fmt.Sprint(c.Before[k])); ok && other != p.st.Metadata.Name {
			c.Conflict = fmt.Sprintf("owned by nekoctl stack %q, not by this one; --adopt takes over only objects that no stack owns", other)
		}
	}
	p.mu.Lock()
	extras := p.state.adoptExtra[c.Address]
	p.mu.Unlock()
	if len(extras) > 0 {
		c.Notes = append(c.Notes, "also at this name, deleted when it is adopted: "+describeRecords(extras))
	}
}

func describeRecords(recs []obj) string {
	s := make([]string, len(recs))
	for i, r := range recs {
		s[i] = str(r, "type") + " " + str(r, "content")
	}
	return strings.Join(s, ", ")
}

// adoptDNS takes over a record made by hand: the others at its name go,
// then it is marked and updated in place, or, when its type must change,
// replaced by the stack's record.
func (p *Provider) adoptDNS(ctx context.Context, base string, c plan.Change, doc plan.Document) (created bool, err error) {
	p.mu.Lock()
	extras := p.state.adoptExtra[c.Address]
	p.mu.Unlock()
	for _, r := range extras {
		if _, err := p.api.send(ctx, http.MethodDelete, base+"/"+str(r, "id"), nil); err != nil && status(err) != http.StatusNotFound {
			return false, fmt.Errorf("deleting %s %s %s: %w", str(r, "type"), str(r, "name"), str(r, "content"), err)
		}
	}
	if c.Before["type"] == doc["type"] {
		_, err := p.api.send(ctx, http.MethodPatch, base+"/"+c.ID, doc)
		return false, err
	}
	if _, err := p.api.send(ctx, http.MethodDelete, base+"/"+c.ID, nil); err != nil && status(err) != http.StatusNotFound {
		return false, err
	}
	return true, nil
}

// shadowedWarning names the records made by hand at the load-balanced
// hostname: the load balancer answers instead of them, and nekoctl does not
// own them, so it leaves them.
func (p *Provider) shadowedWarning() []plan.Diagnostic {
	p.mu.Lock()
	recs := p.state.shadowed
	p.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	return []plan.Diagnostic{{Severity: plan.SeverityWarning, Provider: Name, Message: fmt.Sprintf(
		"%s has DNS records nekoctl does not own (%s): the load balancer of that name answers instead of them; nekoctl leaves them, delete them once the load balancer serves",
		p.lbHost(), describeRecords(recs))}}
}

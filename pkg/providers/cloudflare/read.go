package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// settingIDs are the zone settings the spec can own.
var settingIDs = []string{"ssl_automatic_mode", "ssl", "tls_client_auth", "min_tls_version", "always_use_https", "automatic_https_rewrites",
	"cache_level", "browser_cache_ttl", "always_online", "rocket_loader", "early_hints"}

// Read implements provider.Provider. It makes one call per collection
// (zone, DNS records, monitors, pools, load balancers, Origin CA
// certificates), one per ruleset phase and one per owned zone setting, and
// never a call per owned object. With the zone's id remembered from a
// previous run (zonecache.go) every call goes out at once, the zone read by
// id among them; otherwise in two rounds: the zone lookup by name with the
// account's monitors and pools, then everything under the zone.
// Config.Parallelism bounds the calls in flight. It publishes nothing: the
// certificate is useless to others without its key, which only the TLS
// Secret holds.
func (p *Provider) Read(ctx context.Context, _ provider.Outputs) ([]provider.Resource, error) {
	if err := p.online(); err != nil {
		return nil, err
	}
	if guess := p.rememberedZoneID(); guess != "" {
		if out, ok, err := p.read(ctx, guess); ok {
			return out, err
		}
		// The id names no longer the spec's zone: the round is wasted, what
		// it read is dropped.
	}
	out, _, err := p.read(ctx, "")
	return out, err
}

// read reads the zone by the id guessed and everything in it at once, or,
// without a guess, looks the zone up by name first. ok is false when the
// guess was wrong (the zone by id failed to read or is not the spec's).
func (p *Provider) read(ctx context.Context, guess string) (out []provider.Resource, ok bool, err error) {
	st := liveState{read: true, poolIDs: map[string]string{}, editable: map[string]bool{}, foreignRules: map[string]int{},
		dups: map[plan.Address]string{}, adoptExtra: map[plan.Address][]obj{}}
	var lists lbLists
	var zid, tier string
	var zoneErr, acctErr error
	var wg sync.WaitGroup
	wg.Go(func() { acctErr = p.listAccountLB(ctx, &lists) })
	if guess == "" {
		wg.Go(func() { zid, tier, zoneErr = p.lookupZone(ctx) })
		wg.Wait()
		if err := errors.Join(zoneErr, acctErr); err != nil {
			return nil, true, err
		}
		st.zoneID = zid
	} else {
		st.zoneID, ok = guess, true
		wg.Go(func() { zid, tier, ok, zoneErr = p.zoneByID(ctx, guess) })
	}
	results, errs := p.readZoneContents(ctx, &st, &lists)
	wg.Wait()
	if !ok && guess != "" {
		return nil, false, nil
	}
	if err := errors.Join(append([]error{zoneErr, acctErr}, errs...)...); err != nil {
		return nil, true, err
	}
	st.plan = tier
	for _, rs := range results {
		out = append(out, rs...)
	}
	out = append(out, p.readLB(&st, &lists)...)
	p.settleAlertPolicies(out, &st)
	p.mu.Lock()
	p.state = st
	p.mu.Unlock()
	p.rememberZoneID(zid)
	return out, true, nil
}

// readZoneContents reads everything under the zone (st.zoneID) at once, and
// the zone's load balancers into lists.
func (p *Provider) readZoneContents(ctx context.Context, st *liveState, lists *lbLists) ([][]provider.Resource, []error) {
	// The steps write disjoint parts of st and run at once.
	steps := []func(context.Context, *liveState) ([]provider.Resource, error){
		p.readDNS, p.readSettings, p.readRules, p.readCert, p.readAlertPolicies,
		func(ctx context.Context, st *liveState) (_ []provider.Resource, err error) {
			if lists.lbs, err = p.api.list(ctx, p.zonePath(st, "load_balancers"), nil); err != nil {
				return nil, fmt.Errorf("listing load balancers: %w", apiErr(err))
			}
			return nil, nil
		},
	}
	results := make([][]provider.Resource, len(steps))
	errs := make([]error, len(steps))
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() { results[i], errs[i] = step(ctx, st) })
	}
	wg.Wait()
	return results, errs
}

func (p *Provider) zonePath(st *liveState, rest string) string {
	return "zones/" + st.zoneID + "/" + rest
}

func (p *Provider) acctPath(rest string) string {
	return "accounts/" + p.cf.AccountID + "/load_balancers/" + rest
}

// readDNS lists the zone's records in one call: the stack's own (by
// marker) and those in the way of its hostnames (see unownedRecords) come
// from the same listing.
func (p *Provider) readDNS(ctx context.Context, st *liveState) ([]provider.Resource, error) {
	recs, err := p.api.list(ctx, p.zonePath(st, "dns_records"), url.Values{"per_page": {"5000"}})
	if err != nil {
		return nil, fmt.Errorf("listing DNS records: %w", apiErr(err))
	}
	var out []provider.Resource
	seen := map[string]int{}
	for _, r := range recs {
		if str(r, "comment") != p.marker() {
			continue
		}
		name := str(r, "name")
		seen[strings.ToLower(name)]++
		if seen[strings.ToLower(name)] > 1 {
			name = dupName(name, str(r, "id"))
			p.addDup(st, p.zoneAddr(KindDNSRecord, name), "a second record of this name owned by this stack (created by runs that overlapped)")
		}
		out = append(out, provider.Resource{Address: p.zoneAddr(KindDNSRecord, name), ID: str(r, "id"), Fingerprint: str(r, "modified_on"), Doc: recordDoc(r)})
	}
	return append(out, p.unownedRecords(st, recs, seen)...), nil
}

// recordDoc is the part of a DNS record the stack owns.
func recordDoc(r obj) plan.Document {
	return plan.Document{
		"name": str(r, "name"), "type": str(r, "type"), "content": str(r, "content"),
		"proxied": r["proxied"], "ttl": r["ttl"], "comment": str(r, "comment"),
	}
}

func (p *Provider) readSettings(ctx context.Context, st *liveState) ([]provider.Resource, error) {
	want := p.desiredSettings()
	got := make([]obj, len(want))
	errs := make([]error, len(want))
	var wg sync.WaitGroup
	for i, s := range want {
		wg.Go(func() {
			got[i], errs[i] = p.api.get(ctx, p.zonePath(st, "settings/"+s.id))
			if errs[i] != nil {
				errs[i] = fmt.Errorf("reading zone setting %s: %w", s.id, apiErr(errs[i]))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []provider.Resource
	for i, s := range want {
		st.editable[s.id] = got[i]["editable"] != false
		out = append(out, provider.Resource{Address: p.zoneAddr(KindZoneSetting, s.id), ID: s.id, Doc: plan.Document{"value": got[i]["value"]},
			Fingerprint: str(got[i], "modified_on")})
	}
	return out, nil
}

// getPhase reads a phase entrypoint's rules; a missing entrypoint is empty.
func (p *Provider) getPhase(ctx context.Context, zoneID, phase string) ([]obj, error) {
	rs, err := p.api.get(ctx, "zones/"+zoneID+"/rulesets/phases/"+phase+"/entrypoint")
	if status(err) == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading ruleset phase %s: %w", phase, apiErr(err))
	}
	var rules []obj
	for _, r := range asList(rs["rules"]) {
		if m, ok := r.(obj); ok {
			rules = append(rules, m)
		}
	}
	return rules, nil
}

// ruleVersion identifies a rule's version: the API numbers every rule's
// versions and stamps its last update.
func ruleVersion(r obj) string {
	return str(r, "version") + "@" + str(r, "last_updated")
}

func asList(v any) []any { l, _ := v.([]any); return l }

func (p *Provider) readRules(ctx context.Context, st *liveState) ([]provider.Resource, error) {
	all := make([][]obj, len(phases))
	errs := make([]error, len(phases))
	var wg sync.WaitGroup
	for i, ph := range phases {
		wg.Go(func() { all[i], errs[i] = p.getPhase(ctx, st.zoneID, ph) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []provider.Resource
	for i, ph := range phases {
		for _, r := range all[i] {
			ref := str(r, "ref")
			if !strings.HasPrefix(ref, p.refPrefix()) {
				st.foreignRules[ph]++
				continue
			}
			doc := plan.Document{"phase": ph, "ref": ref}
			for _, k := range []string{"action", "expression", "description", "enabled", "action_parameters", "ratelimit"} {
				if v, ok := r[k]; ok {
					doc[k] = v
				}
			}
			if _, ok := doc["enabled"]; !ok {
				doc["enabled"] = true
			}
			out = append(out, provider.Resource{Address: p.zoneAddr(KindRule, ref), ID: str(r, "id"), Doc: doc, Fingerprint: ruleVersion(r)})
		}
	}
	return out, nil
}

// readCert reads every unrevoked Origin CA certificate for exactly the
// stack's hostnames. Which one the stack keeps is decided once the key held
// in the regions' TLS Secrets is known (see chooseCert); until then the one
// that expires last stands first.
func (p *Provider) readCert(ctx context.Context, st *liveState) ([]provider.Resource, error) {
	certs, err := p.api.list(ctx, "certificates", url.Values{"zone_id": {st.zoneID}})
	if err != nil {
		return nil, fmt.Errorf("listing Origin CA certificates: %w", apiErr(err))
	}
	want := p.certHostnames()
	for _, c := range certs {
		hs := asList(c["hostnames"])
		sort.Slice(hs, func(i, j int) bool { return fmt.Sprint(hs[i]) < fmt.Sprint(hs[j]) })
		if !slices.Equal(hs, want) {
			continue
		}
		st.certs = append(st.certs, liveCert{id: str(c, "id"), pem: str(c, "certificate"), expiresOn: parseExpiry(str(c, "expires_on")),
			doc: plan.Document{"hostnames": hs, "request_type": str(c, "request_type"), "requested_validity": c["requested_validity"]}})
	}
	sort.SliceStable(st.certs, func(i, j int) bool { return st.certs[i].expiresOn.After(st.certs[j].expiresOn) })
	return p.certResources(st.certs, 0), nil
}

// certResources addresses the certificates: the kept one (index keep) under
// the stack's address, each other one as a duplicate of it.
func (p *Provider) certResources(certs []liveCert, keep int) []provider.Resource {
	var out []provider.Resource
	for i, c := range certs {
		name := p.lbHost()
		if i != keep {
			name = dupName(name, c.id)
		}
		// The API has no modification time for a certificate; it never
		// changes in place, so its id and expiry identify the version.
		out = append(out, provider.Resource{Address: p.zoneAddr(KindOriginCert, name), ID: c.id, Doc: c.doc,
			Fingerprint: c.id + "@" + c.expiresOn.UTC().Format(time.RFC3339)})
	}
	return out
}

func parseExpiry(s string) time.Time {
	for _, layout := range []string{"2006-01-02 15:04:05 -0700 MST", time.RFC3339, "2006-01-02 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

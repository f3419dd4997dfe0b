package kubernetes

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// The auth Secret's values are one set per stack: every region gets the
// same JWT key set and admin password, so that a token issued in one region
// is accepted in all. They are found in whichever region has them (the
// primary first), and generated only when no region has them, by the
// primary region's Secret, which the other regions' Secrets wait for.
const (
	keyJWTKeys       = "JWT_KEYS"
	keyAdminPassword = "ADMIN_PASSWORD"
	// keyLegacyJWT is the single per-region secret of earlier versions; a
	// stack that has only it keeps it as the first key of its key set.
	keyLegacyJWT = "JWT_SECRET"
	legacyKeyID  = "legacy"
	// keyIDLayout names a key by when it was made: the grace period of the
	// keys before it runs from then.
	keyIDLayout = "20060102T150405Z"
	// defaultTokenLifetime is the workload's JWT_TTL default.
	defaultTokenLifetime = time.Hour
)

// StackSecretKey is the output key of a value every region's auth Secret
// shares, produced by the primary region's.
func StackSecretKey(key string) string { return "kubernetes/stack/" + authSecret + "/" + key }

// foundKey is where a region's Read publishes a value of its auth Secret.
func foundKey(region, key string) string {
	return "kubernetes/" + region + "/found/" + authSecret + "/" + key
}

// deployedKey marks a region whose Read found the API Deployment.
func deployedKey(region string) string { return "kubernetes/" + region + "/found/deployment" }

// keyPolicy is what the key set must become in this run.
type keyPolicy struct {
	Now    time.Time
	Rotate bool
}

// keySet is the workload's JWT_KEYS document.
type keySet struct {
	Current string            `json:"current"`
	Keys    map[string]string `json:"keys"`
}

func (k keySet) encode() plan.Sensitive {
	b, _ := json.Marshal(k) // a struct of strings always marshals
	return plan.NewSensitive(string(b))
}

// regionsPrimaryFirst orders where shared values are looked for.
func regionsPrimaryFirst(st *spec.Stack) []string {
	var out []string
	if p := st.Spec.PrimaryRegion(); p != nil {
		out = append(out, p.Name)
	}
	for _, r := range st.Spec.Regions {
		if len(out) == 0 || r.Name != out[0] {
			out = append(out, r.Name)
		}
	}
	return out
}

// found returns the first value of key any region's auth Secret holds.
func found(st *spec.Stack, out provider.Outputs, key string) (string, bool) {
	if out == nil {
		return "", false
	}
	for _, r := range regionsPrimaryFirst(st) {
		if v, ok := out.Get(foundKey(r, key)); ok {
			if s, ok := v.(plan.Sensitive); ok && s.Reveal() != "" {
				return s.Reveal(), true
			}
		}
	}
	return "", false
}

// foundKeySet is the stack's key set as some region holds it, or the
// legacy single secret as a set of one.
func foundKeySet(st *spec.Stack, out provider.Outputs) (keySet, bool) {
	if raw, ok := found(st, out, keyJWTKeys); ok {
		var ks keySet
		if err := json.Unmarshal([]byte(raw), &ks); err == nil && ks.Keys[ks.Current] != "" {
			return ks, true
		}
	}
	if legacy, ok := found(st, out, keyLegacyJWT); ok {
		return keySet{Current: legacyKeyID, Keys: map[string]string{legacyKeyID: base64.StdEncoding.EncodeToString([]byte(legacy))}}, true
	}
	return keySet{}, false
}

// tokenLifetime is how long the workload's tokens live: the spec's
// JWT_TTL, or the workload's default.
func tokenLifetime(st *spec.Stack) time.Duration {
	if d, err := time.ParseDuration(st.Spec.Workload.Env["JWT_TTL"]); err == nil && d > 0 {
		return d
	}
	return defaultTokenLifetime
}

// retire drops the keys before the current one once the current one has
// signed for a whole token lifetime: every token they signed has expired.
func retire(ks keySet, now time.Time, ttl time.Duration) (keySet, []string) {
	made, err := time.Parse(keyIDLayout, ks.Current)
	if err != nil || now.Before(made.Add(ttl)) {
		return ks, nil
	}
	var gone []string
	kept := keySet{Current: ks.Current, Keys: map[string]string{}}
	for id, k := range ks.Keys {
		if id == ks.Current {
			kept.Keys[id] = k
			continue
		}
		gone = append(gone, id)
	}
	sort.Strings(gone)
	return kept, gone
}

// sharedValues are the plan values of the auth Secret in every region,
// with notes for the primary region's Secret.
func sharedValues(st *spec.Stack, out provider.Outputs, kp keyPolicy) (jwtKeys, admin any, notes []string) {
	admin = plan.Unknown{From: StackSecretKey(keyAdminPassword)}
	if v, ok := found(st, out, keyAdminPassword); ok {
		admin = plan.NewSensitive(v)
	}
	ks, ok := foundKeySet(st, out)
	ttl := tokenLifetime(st)
	switch {
	case !ok:
		jwtKeys = plan.Unknown{From: StackSecretKey(keyJWTKeys)}
		if out != nil && anyDeployed(st, out) {
			notes = append(notes, "no region holds the stack's JWT signing keys: new ones are generated, and tokens issued before are no longer accepted")
		}
	case kp.Rotate:
		jwtKeys = plan.Unknown{From: StackSecretKey(keyJWTKeys), Changes: true}
		notes = append(notes, fmt.Sprintf("--rotate-jwt-key: a new signing key becomes current; %s keeps verifying for %s (the token lifetime), and a later run removes it",
			ks.Current, ttl))
	default:
		kept, gone := retire(ks, kp.Now, ttl)
		jwtKeys = kept.encode()
		if len(gone) > 0 {
			notes = append(notes, fmt.Sprintf("JWT key(s) %s retired: key %s has signed for a whole token lifetime (%s)",
				strings.Join(gone, ", "), ks.Current, ttl))
		}
	}
	return jwtKeys, admin, notes
}

func anyDeployed(st *spec.Stack, out provider.Outputs) bool {
	for _, r := range st.Spec.Regions {
		if _, ok := out.Get(deployedKey(r.Name)); ok {
			return true
		}
	}
	return false
}

// generateShared makes, in the primary region at apply time, a value the
// stack shares: a new admin password, or the key set with a new current
// key (the found keys that are not retired stay, to verify what they
// signed).
func (p *Provider) generateShared(key string, out provider.Outputs) (plan.Sensitive, error) {
	switch key {
	case StackSecretKey(keyAdminPassword):
		s, err := randomSecret()
		return plan.NewSensitive(s), err
	case StackSecretKey(keyJWTKeys):
		ks, ok := foundKeySet(p.st, out)
		if !ok {
			ks = keySet{Keys: map[string]string{}}
		}
		now := p.opts.Now().UTC()
		ks, _ = retire(ks, now, tokenLifetime(p.st))
		id := now.Format(keyIDLayout)
		for n := 2; ks.Keys[id] != ""; n++ {
			id = fmt.Sprintf("%s-%d", now.Format(keyIDLayout), n)
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return plan.Sensitive{}, err
		}
		ks.Keys[id], ks.Current = base64.StdEncoding.EncodeToString(b), id
		return ks.encode(), nil
	}
	return plan.Sensitive{}, fmt.Errorf("%s is not a value the stack shares", key)
}

func randomSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// isPrimary reports whether this provider serves the primary region, whose
// auth Secret produces the shared values.
func (p *Provider) isPrimary() bool {
	r := p.st.Spec.PrimaryRegion()
	return r != nil && r.Name == p.region
}

// readKey marks, in the run's outputs, a region whose live state was read.
func readKey(region string) string { return "kubernetes/" + region + "/read" }

// primaryInRun reports whether the primary region takes part in this run
// (its state was read): then its Secret settles the shared values and the
// other regions wait for it. A run without it (--region of a secondary on
// a new stack) lets the region it has generate them; later runs find them
// there and deliver them everywhere.
func primaryInRun(st *spec.Stack, out provider.Outputs) bool {
	r := st.Spec.PrimaryRegion()
	if r == nil || out == nil {
		return false
	}
	_, ok := out.Get(readKey(r.Name))
	return ok
}

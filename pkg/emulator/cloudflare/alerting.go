package cfemu

import (
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"sort"
	"strings"
)

// Notification policies (account alerting, /accounts/{account}/alerting/v3/policies).
// Creates and updates answer with the id only, as the service does; lists
// carry the whole policy.

// Policy is an account notification policy.
type Policy struct {
	ID            string              `json:"id"`
	Created       string              `json:"created"`
	Modified      string              `json:"modified"`
	Name          string              `json:"name"`
	Description   string              `json:"description"`
	AlertType     string              `json:"alert_type"`
	AlertInterval string              `json:"alert_interval,omitempty"`
	Enabled       *bool               `json:"enabled"`
	Mechanisms    map[string][]MechID `json:"mechanisms"`
	Filters       map[string][]string `json:"filters"`
}

// MechID is one destination of a policy: an email address, or the id of a
// webhook or PagerDuty destination.
type MechID struct {
	ID string `json:"id"`
}

// policyFilters are the filter keys each alert type the emulator knows
// accepts, with the values a key is limited to (nil: any value).
var policyFilters = map[string]map[string][]string{
	"load_balancing_health_alert": {
		"pool_id":      nil,
		"new_health":   {"Healthy", "Unhealthy"},
		"event_source": {"pool", "origin"},
	},
	"load_balancing_pool_enablement_alert": {
		"pool_id": nil,
		"enabled": {"true", "false"},
	},
}

// policyLimit is how many policies an account holds in the emulator.
const policyLimit = 50

// Policies returns copies of an account's notification policies.
func (s *Server) Policies(accountID string) []Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.account(accountID).policies)
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acct(w, r); a != nil {
		writeList(w, r, a.policies, 1000, 1000)
	}
}

// policyIndex finds the policy the path names, or answers 404.
func policyIndex(w http.ResponseWriter, r *http.Request, a *account) int {
	i := findByID(a.policies, func(p *Policy) string { return p.ID }, r.PathValue("id"))
	if i < 0 {
		writeErr(w, http.StatusNotFound, 17003, "policy not found")
	}
	return i
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acct(w, r); a != nil {
		if i := policyIndex(w, r, a); i >= 0 {
			writeOK(w, a.policies[i])
		}
	}
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) { s.putPolicy(w, r, false) }
func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) { s.putPolicy(w, r, true) }

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request, update bool) {
	var p Policy
	if !decode(w, r, &p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil {
		return
	}
	if errs := s.checkPolicy(a, &p); len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	now := s.stamp()
	if update {
		i := policyIndex(w, r, a)
		if i < 0 {
			return
		}
		p.ID, p.Created, p.Modified = a.policies[i].ID, a.policies[i].Created, now
		*a.policies[i] = p
		writeOK(w, map[string]string{"id": p.ID})
		return
	}
	if len(a.policies) >= policyLimit {
		writeErr(w, http.StatusBadRequest, 17002, fmt.Sprintf("account has reached its limit of %d policies", policyLimit))
		return
	}
	p.ID, p.Created, p.Modified = s.nextID(), now, now
	a.policies = append(a.policies, &p)
	writeOK(w, map[string]string{"id": p.ID})
}

// checkPolicy validates a policy body: required fields, a known alert type,
// filters that type accepts (pool ids must exist), and destinations.
func (s *Server) checkPolicy(a *account, p *Policy) []apiError {
	var errs []apiError
	bad := func(format string, args ...any) { errs = append(errs, apiError{17001, fmt.Sprintf(format, args...)}) }
	if strings.TrimSpace(p.Name) == "" {
		bad("name is required")
	}
	if p.Enabled == nil {
		bad("enabled is required")
	}
	allowed, ok := policyFilters[p.AlertType]
	if !ok {
		types := make([]string, 0, len(policyFilters))
		for t := range policyFilters {
			types = append(types, t)
		}
		sort.Strings(types)
		bad("alert_type %q is invalid (this emulator knows %s)", p.AlertType, strings.Join(types, ", "))
	}
	for key, values := range p.Filters {
		valid, known := allowed[key]
		if ok && !known {
			bad("filters.%s is not a filter of alert type %s", key, p.AlertType)
			continue
		}
		for _, v := range values {
			switch {
			case key == "pool_id" && findByID(a.pools, func(pl *Pool) string { return pl.ID }, v) < 0:
				bad("filters.pool_id: pool %s does not exist", v)
			case valid != nil && !slices.Contains(valid, v):
				bad("filters.%s: %q is not one of %s", key, v, strings.Join(valid, ", "))
			}
		}
	}
	if p.Mechanisms == nil {
		bad("mechanisms is required")
	}
	n := 0
	for kind, ids := range p.Mechanisms {
		n += len(ids)
		for _, m := range ids {
			switch kind {
			case "email":
				if _, err := mail.ParseAddress(m.ID); err != nil {
					bad("mechanisms.email: %q is not an email address", m.ID)
				}
			case "webhooks", "pagerduty":
				// No destinations are configured in the emulator.
				bad("mechanisms.%s: destination %s does not exist", kind, m.ID)
			default:
				bad("mechanisms.%s is not a mechanism (email, webhooks, pagerduty)", kind)
			}
		}
	}
	if p.Mechanisms != nil && n == 0 {
		bad("mechanisms needs at least one destination")
	}
	return errs
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil {
		return
	}
	i := policyIndex(w, r, a)
	if i < 0 {
		return
	}
	a.policies = slices.Delete(a.policies, i, i+1)
	writeJSON(w, http.StatusOK, envelope{Success: true})
}

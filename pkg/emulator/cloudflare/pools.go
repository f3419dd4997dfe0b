package cfemu

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
)

// Below Enterprise an account holds at most this many monitors, pools and
// origins, and a zone this many load balancers.
const lbLimit = 20

// GeoRegions are the load balancer's region codes.
var GeoRegions = []string{"WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "SAS", "SEAS", "NEAS"}

// Monitor is an account-level health check.
type Monitor struct {
	ID              string              `json:"id"`
	CreatedOn       string              `json:"created_on"`
	ModifiedOn      string              `json:"modified_on"`
	Type            string              `json:"type"`
	Description     string              `json:"description"`
	Method          string              `json:"method"`
	Path            string              `json:"path"`
	Port            int                 `json:"port"`
	Header          map[string][]string `json:"header"`
	Timeout         int                 `json:"timeout"`
	Retries         int                 `json:"retries"`
	Interval        int                 `json:"interval"`
	ExpectedCodes   string              `json:"expected_codes"`
	ExpectedBody    string              `json:"expected_body"`
	FollowRedirects bool                `json:"follow_redirects"`
	AllowInsecure   bool                `json:"allow_insecure"`
	ProbeZone       string              `json:"probe_zone"`
}

// Origin is one endpoint of a pool.
type Origin struct {
	Name    string              `json:"name"`
	Address string              `json:"address"`
	Enabled bool                `json:"enabled"`
	Weight  float64             `json:"weight"`
	Header  map[string][]string `json:"header,omitempty"`
}

// Pool is an account-level origin pool.
type Pool struct {
	ID                string   `json:"id"`
	CreatedOn         string   `json:"created_on"`
	ModifiedOn        string   `json:"modified_on"`
	Name              string   `json:"name"`
	Description       string   `json:"description"`
	Enabled           bool     `json:"enabled"`
	MinimumOrigins    int      `json:"minimum_origins"`
	Monitor           string   `json:"monitor,omitempty"`
	Origins           []Origin `json:"origins"`
	NotificationEmail string   `json:"notification_email"`
	CheckRegions      []string `json:"check_regions"`
}

type account struct {
	// noLoadBalancing marks an account without the Load Balancing add-on.
	noLoadBalancing bool
	// lbLimit is the monitors and pools the subscription allows (0: the
	// self-serve 20; Enterprise contracts set their own).
	lbLimit  int
	monitors []*Monitor
	pools    []*Pool
	policies []*Policy
	// unhealthy pools (by id) report their origins down.
	unhealthy map[string]bool
}

func (s *Server) account(id string) *account {
	a, ok := s.accounts[id]
	if !ok {
		a = &account{unhealthy: map[string]bool{}}
		s.accounts[id] = a
	}
	return a
}

// Pools returns copies of the default account's pools.
func (s *Server) Pools() []Pool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.account(DefaultAccount).pools)
}

// Monitors returns copies of the default account's monitors.
func (s *Server) Monitors() []Monitor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.account(DefaultAccount).monitors)
}

// SetPoolHealthy makes a pool's health endpoint report it (un)healthy.
func (s *Server) SetPoolHealthy(poolID string, healthy bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(DefaultAccount).unhealthy[poolID] = !healthy
}

// SetLoadBalancing gives an account the Load Balancing subscription or takes
// it away; without it monitors, pools and load balancers cannot be created
// or changed.
func (s *Server) SetLoadBalancing(accountID string, subscribed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(accountID).noLoadBalancing = !subscribed
}

// SetLoadBalancingLimit sets how many monitors and pools an account may
// hold, as an Enterprise contract does (the self-serve plans allow 20).
func (s *Server) SetLoadBalancingLimit(accountID string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.account(accountID).lbLimit = n
}

func (a *account) limit() int {
	if a.lbLimit > 0 {
		return a.lbLimit
	}
	return lbLimit
}

// entitled answers 403 when the account lacks Load Balancing. The service's
// exact code for this refusal is not documented; callers must not rely on it.
func entitled(w http.ResponseWriter, a *account) bool {
	if a.noLoadBalancing {
		writeErr(w, http.StatusForbidden, 1401, "Load Balancing is not enabled for this account: purchase the Load Balancing add-on to create monitors, pools and load balancers")
		return false
	}
	return true
}

func (s *Server) acct(w http.ResponseWriter, r *http.Request) *account {
	a, ok := s.accounts[r.PathValue("account")]
	if !ok {
		writeErr(w, http.StatusForbidden, 9109, "Unauthorized to access requested resource")
		return nil
	}
	return a
}

// save stores obj as a new account object, or over the one named by the
// request's {id} when update is set, and answers as the API does: 404 for
// an unknown id, 400 past the account's limit.
func save[T any](s *Server, w http.ResponseWriter, r *http.Request, limit int, list *[]*T, obj T, kind string, update bool,
	meta func(*T) (id, created, modified *string)) {
	id, created, modified := meta(&obj)
	now := s.stamp()
	if update {
		i := findByID(*list, func(t *T) string { id, _, _ := meta(t); return *id }, r.PathValue("id"))
		if i < 0 {
			writeErr(w, http.StatusNotFound, 1003, kind+" not found")
			return
		}
		curID, curCreated, _ := meta((*list)[i])
		*id, *created, *modified = *curID, *curCreated, now
		*(*list)[i] = obj
		writeOK(w, obj)
		return
	}
	if len(*list) >= limit {
		writeErr(w, http.StatusBadRequest, 1004, fmt.Sprintf("account has reached its limit of %d %ss", limit, kind))
		return
	}
	*id, *created, *modified = s.nextID(), now, now
	*list = append(*list, &obj)
	writeOK(w, obj)
}

// copies returns the values behind items, so tests can read state without
// sharing the emulator's objects.
func copies[T any](items []*T) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, *it)
	}
	return out
}

func findByID[T any](items []*T, id func(*T) string, want string) int {
	return slices.IndexFunc(items, func(t *T) bool { return id(t) == want })
}

// ---- monitors ----

func (s *Server) listMonitors(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acct(w, r); a != nil {
		writeList(w, r, a.monitors, 1000, 1000)
	}
}

func (s *Server) createMonitor(w http.ResponseWriter, r *http.Request) { s.putMonitor(w, r, false) }
func (s *Server) updateMonitor(w http.ResponseWriter, r *http.Request) { s.putMonitor(w, r, true) }

func (s *Server) putMonitor(w http.ResponseWriter, r *http.Request, update bool) {
	m := Monitor{Type: "http", Method: "GET", Path: "/", Timeout: 5, Retries: 2, Interval: 60, ExpectedCodes: "200"}
	if !decode(w, r, &m) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil || !entitled(w, a) {
		return
	}
	var errs []apiError
	if !slices.Contains([]string{"http", "https", "tcp", "udp_icmp", "icmp_ping", "smtp"}, m.Type) {
		errs = append(errs, apiError{1002, "monitor type " + m.Type + " is invalid"})
	}
	if m.Interval < 15 {
		errs = append(errs, apiError{1002, fmt.Sprintf("monitor interval %d is below the 15 second minimum of this account's plan", m.Interval)})
	}
	if m.Timeout < 1 || m.Timeout >= m.Interval {
		errs = append(errs, apiError{1002, "monitor timeout must be at least 1 second and below the interval"})
	}
	if m.Retries < 0 || m.Retries > 5 {
		errs = append(errs, apiError{1002, "monitor retries must be between 0 and 5"})
	}
	if (m.Type == "http" || m.Type == "https") && !regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]xx)$`).MatchString(m.ExpectedCodes) {
		errs = append(errs, apiError{1002, "monitor expected_codes must be a status code such as 200 or a class such as 2xx"})
	}
	if m.Port < 0 || m.Port > 65535 {
		errs = append(errs, apiError{1002, "monitor port is out of range"})
	}
	if len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	save(s, w, r, a.limit(), &a.monitors, m, "monitor", update, func(m *Monitor) (*string, *string, *string) {
		return &m.ID, &m.CreatedOn, &m.ModifiedOn
	})
}

func (s *Server) deleteMonitor(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil || !entitled(w, a) {
		return
	}
	id := r.PathValue("id")
	i := findByID(a.monitors, func(m *Monitor) string { return m.ID }, id)
	if i < 0 {
		writeErr(w, http.StatusNotFound, 1003, "monitor not found")
		return
	}
	for _, p := range a.pools {
		if p.Monitor == id {
			writeErr(w, http.StatusBadRequest, 1001, "monitor is still referenced by pool "+p.Name)
			return
		}
	}
	a.monitors = slices.Delete(a.monitors, i, i+1)
	writeOK(w, map[string]string{"id": id})
}

// ---- pools ----

var poolName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (s *Server) listPools(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.acct(w, r); a != nil {
		out := a.pools
		if mon := r.URL.Query().Get("monitor"); mon != "" {
			out = nil
			for _, p := range a.pools {
				if p.Monitor == mon {
					out = append(out, p)
				}
			}
		}
		writeList(w, r, out, 1000, 1000)
	}
}

func (s *Server) createPool(w http.ResponseWriter, r *http.Request) { s.putPool(w, r, false) }
func (s *Server) updatePool(w http.ResponseWriter, r *http.Request) { s.putPool(w, r, true) }

func (s *Server) putPool(w http.ResponseWriter, r *http.Request, update bool) {
	p := Pool{Enabled: true, MinimumOrigins: 1}
	if !decode(w, r, &p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil {
		return
	}
	var errs []apiError
	if !poolName.MatchString(p.Name) {
		errs = append(errs, apiError{1002, fmt.Sprintf("pool name %q may only contain letters, digits, - and _", p.Name)})
	}
	if len(p.Origins) == 0 {
		errs = append(errs, apiError{1002, "a pool needs at least one origin"})
	}
	if len(p.Origins) > lbLimit {
		errs = append(errs, apiError{1004, fmt.Sprintf("a pool holds at most %d origins", lbLimit)})
	}
	for i, o := range p.Origins {
		if o.Name == "" || o.Address == "" {
			errs = append(errs, apiError{1002, fmt.Sprintf("origins[%d] needs a name and an address", i)})
		}
		if o.Weight == 0 {
			p.Origins[i].Weight = 1
		}
	}
	if p.MinimumOrigins < 1 || p.MinimumOrigins > max(1, len(p.Origins)) {
		errs = append(errs, apiError{1002, "minimum_origins must be between 1 and the number of origins"})
	}
	if p.Monitor != "" && findByID(a.monitors, func(m *Monitor) string { return m.ID }, p.Monitor) < 0 {
		errs = append(errs, apiError{1002, "monitor " + p.Monitor + " does not exist"})
	}
	if len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	if p.CheckRegions == nil {
		p.CheckRegions = []string{}
	}
	save(s, w, r, a.limit(), &a.pools, p, "pool", update, func(p *Pool) (*string, *string, *string) {
		return &p.ID, &p.CreatedOn, &p.ModifiedOn
	})
}

func (s *Server) deletePool(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil {
		return
	}
	id := r.PathValue("id")
	i := findByID(a.pools, func(p *Pool) string { return p.ID }, id)
	if i < 0 {
		writeErr(w, http.StatusNotFound, 1003, "pool not found")
		return
	}
	for _, z := range s.zones {
		for _, l := range z.lbs {
			if l.FallbackPool == id || slices.Contains(l.DefaultPools, id) {
				writeErr(w, http.StatusBadRequest, 1001, "pool is still referenced by load balancer "+l.Name)
				return
			}
			for _, ids := range l.RegionPools {
				if slices.Contains(ids, id) {
					writeErr(w, http.StatusBadRequest, 1001, "pool is still referenced by load balancer "+l.Name)
					return
				}
			}
		}
	}
	a.pools = slices.Delete(a.pools, i, i+1)
	writeOK(w, map[string]string{"id": id})
}

func (s *Server) poolHealth(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.acct(w, r)
	if a == nil {
		return
	}
	i := findByID(a.pools, func(p *Pool) string { return p.ID }, r.PathValue("id"))
	if i < 0 {
		writeErr(w, http.StatusNotFound, 1003, "pool not found")
		return
	}
	p := a.pools[i]
	healthy := !a.unhealthy[p.ID]
	origins := map[string]any{}
	for _, o := range p.Origins {
		origins[o.Address] = map[string]any{"healthy": healthy && o.Enabled, "failure_reason": map[bool]string{true: "No failures", false: "HTTP timeout occurred"}[healthy]}
	}
	writeOK(w, map[string]any{"pool_id": p.ID, "pop_health": map[string]any{
		"Amsterdam, NL": map[string]any{"healthy": healthy, "origins": []any{origins}}}})
}

package cfemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// LoadBalancer is a zone-level load balancer on one hostname.
type LoadBalancer struct {
	ID              string              `json:"id"`
	CreatedOn       string              `json:"created_on"`
	ModifiedOn      string              `json:"modified_on"`
	Name            string              `json:"name"`
	Description     string              `json:"description"`
	Enabled         *bool               `json:"enabled"`
	TTL             int                 `json:"ttl"`
	Proxied         bool                `json:"proxied"`
	FallbackPool    string              `json:"fallback_pool"`
	DefaultPools    []string            `json:"default_pools"`
	RegionPools     map[string][]string `json:"region_pools"`
	CountryPools    map[string][]string `json:"country_pools"`
	PopPools        map[string][]string `json:"pop_pools"`
	SteeringPolicy  string              `json:"steering_policy"`
	SessionAffinity string              `json:"session_affinity"`
	ZoneName        string              `json:"zone_name"`
}

type loadBalancer = LoadBalancer

// LoadBalancers returns copies of a zone's load balancers.
func (s *Server) LoadBalancers(zoneName string) []LoadBalancer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copies(s.zoneByName(zoneName).lbs)
}

// ---- load balancers ----

func (s *Server) listLBs(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.zone(w, r); z != nil {
		writeList(w, r, z.lbs, 1000, 1000)
	}
}

func (s *Server) createLB(w http.ResponseWriter, r *http.Request) { s.putLB(w, r, false) }
func (s *Server) updateLB(w http.ResponseWriter, r *http.Request) { s.putLB(w, r, true) }

func (s *Server) putLB(w http.ResponseWriter, r *http.Request, update bool) {
	l := LoadBalancer{TTL: 30, SteeringPolicy: "off", SessionAffinity: "none"}
	if !decode(w, r, &l) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	a := s.account(z.Account)
	if !entitled(w, a) {
		return
	}
	l.Name = strings.ToLower(strings.TrimSuffix(l.Name, "."))
	if l.Name != z.Name && !strings.HasSuffix(l.Name, "."+z.Name) {
		l.Name += "." + z.Name
	}
	poolExists := func(id string) bool { return findByID(a.pools, func(p *Pool) string { return p.ID }, id) >= 0 }
	var errs []apiError
	bad := func(format string, args ...any) { errs = append(errs, apiError{1002, fmt.Sprintf(format, args...)}) }
	if l.FallbackPool == "" {
		bad("fallback_pool is required")
	} else if !poolExists(l.FallbackPool) {
		bad("fallback_pool %s does not exist", l.FallbackPool)
	}
	if len(l.DefaultPools) == 0 {
		bad("default_pools needs at least one pool")
	}
	for _, id := range l.DefaultPools {
		if !poolExists(id) {
			bad("default_pools: pool %s does not exist", id)
		}
	}
	for region, ids := range l.RegionPools {
		if !slices.Contains(GeoRegions, region) {
			bad("region_pools: %s is not a region code (%s)", region, strings.Join(GeoRegions, ", "))
		}
		for _, id := range ids {
			if !poolExists(id) {
				bad("region_pools.%s: pool %s does not exist", region, id)
			}
		}
	}
	if len(l.PopPools) > 0 && z.Plan != Enterprise {
		bad("pop_pools require an Enterprise plan")
	}
	if !slices.Contains([]string{"off", "geo", "random", "dynamic_latency", "proximity", "least_outstanding_requests", "least_connections", ""}, l.SteeringPolicy) {
		bad("steering_policy %s is invalid", l.SteeringPolicy)
	}
	if !slices.Contains([]string{"none", "cookie", "ip_cookie", "header", ""}, l.SessionAffinity) {
		bad("session_affinity %s is invalid", l.SessionAffinity)
	}
	self := ""
	if update {
		self = r.PathValue("id")
	}
	for _, o := range z.lbs {
		if o.Name == l.Name && o.ID != self {
			bad("a load balancer for %s already exists", l.Name)
		}
	}
	if len(errs) > 0 {
		writeErrs(w, errs)
		return
	}
	if l.Enabled == nil {
		t := true
		l.Enabled = &t
	}
	for _, m := range []*map[string][]string{&l.RegionPools, &l.CountryPools, &l.PopPools} {
		if *m == nil {
			*m = map[string][]string{}
		}
	}
	l.ZoneName = z.Name
	now := s.stamp()
	if update {
		i := findByID(z.lbs, func(l *LoadBalancer) string { return l.ID }, self)
		if i < 0 {
			writeErr(w, http.StatusNotFound, 1003, "load balancer not found")
			return
		}
		l.ID, l.CreatedOn, l.ModifiedOn = z.lbs[i].ID, z.lbs[i].CreatedOn, now
		*z.lbs[i] = l
		writeOK(w, l)
		return
	}
	if len(z.lbs) >= lbLimit && z.Plan != Enterprise {
		writeErr(w, http.StatusBadRequest, 1004, fmt.Sprintf("zone has reached its limit of %d load balancers", lbLimit))
		return
	}
	l.ID, l.CreatedOn, l.ModifiedOn = s.nextID(), now, now
	z.lbs = append(z.lbs, &l)
	writeOK(w, l)
}

func (s *Server) deleteLB(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zone(w, r)
	if z == nil {
		return
	}
	id := r.PathValue("id")
	i := findByID(z.lbs, func(l *LoadBalancer) string { return l.ID }, id)
	if i < 0 {
		writeErr(w, http.StatusNotFound, 1003, "load balancer not found")
		return
	}
	z.lbs = slices.Delete(z.lbs, i, i+1)
	writeOK(w, map[string]string{"id": id})
}

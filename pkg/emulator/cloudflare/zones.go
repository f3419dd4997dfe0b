package cfemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Plan tiers, as the zone's plan.legacy_id.
const (
	Free       = "free"
	Pro        = "pro"
	Business   = "business"
	Enterprise = "enterprise"
)

var planNames = map[string]string{Free: "Free Website", Pro: "Pro Website", Business: "Business Website", Enterprise: "Enterprise Website"}

func paid(plan string) bool { return plan != Free }

type zone struct {
	ID      string
	Name    string
	Plan    string
	Account string
	// Status is initializing, pending (name servers not yet set at the
	// registrar: no traffic is served), active or moved.
	Status      string
	NameServers []string
	records     []*record
	settings    map[string]*setting
	phases      map[string]*ruleset
	lbs         []*loadBalancer
}

type setting struct {
	Value    any
	Editable bool
	Modified string
}

// AddZone creates an active zone on the default account with a plan tier
// (Free, Pro, Business, Enterprise) and the service's default settings. It
// returns the zone id.
func (s *Server) AddZone(name, plan string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := planNames[plan]; !ok {
		panic("cfemu: unknown plan " + plan)
	}
	z := &zone{ID: s.nextID(), Name: name, Plan: plan, Account: DefaultAccount, Status: "active",
		NameServers: []string{"ada.ns.cloudflare.com", "bob.ns.cloudflare.com"},
		settings:    map[string]*setting{}, phases: map[string]*ruleset{}}
	for k, v := range defaultSettings {
		z.settings[k] = &setting{Value: v, Editable: true, Modified: s.stamp()}
	}
	s.zones[z.ID] = z
	return z.ID
}

// zoneStatuses are the values of a zone's status.
var zoneStatuses = []string{"initializing", "pending", "active", "moved"}

// SetZoneStatus sets a zone's status (initializing, pending, active, moved),
// as adding a zone and changing the registrar's name servers do.
func (s *Server) SetZoneStatus(zoneName, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.Contains(zoneStatuses, status) {
		panic("cfemu: unknown zone status " + status)
	}
	s.zoneByName(zoneName).Status = status
}

// MoveZoneToAccount makes another account own a zone.
func (s *Server) MoveZoneToAccount(zoneName, accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zoneByName(zoneName).Account = accountID
	s.account(accountID)
}

// SetEditable marks a zone setting (not) editable, as plan tiers and
// account locks do.
func (s *Server) SetEditable(zoneName, settingID string, editable bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	z := s.zoneByName(zoneName)
	if st, ok := z.settings[settingID]; ok {
		st.Editable = editable
	}
}

// Setting returns a zone setting's current value.
func (s *Server) Setting(zoneName, settingID string) any {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.zoneByName(zoneName).settings[settingID]; ok {
		return st.Value
	}
	return nil
}

func (s *Server) zoneByName(name string) *zone {
	for _, z := range s.zones {
		if z.Name == name {
			return z
		}
	}
	panic("cfemu: no zone " + name)
}

func (z *zone) json() map[string]any {
	return map[string]any{
		"id": z.ID, "name": z.Name, "status": z.Status, "type": "full", "paused": false,
		"account":      map[string]any{"id": z.Account, "name": "Emulated account"},
		"plan":         map[string]any{"id": z.Plan + "-plan", "name": planNames[z.Plan], "legacy_id": z.Plan, "is_subscribed": true, "can_subscribe": false},
		"name_servers": z.NameServers,
	}
}

// zone finds the path's zone under s.mu, or answers 404 / 403.
func (s *Server) zone(w http.ResponseWriter, r *http.Request) *zone {
	z, ok := s.zones[r.PathValue("zone")]
	if !ok {
		writeErr(w, http.StatusNotFound, 1001, "Invalid zone identifier")
		return nil
	}
	return z
}

func (s *Server) listZones(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	var out []map[string]any
	ids := make([]string, 0, len(s.zones))
	for id := range s.zones {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		z := s.zones[id]
		if n := q.Get("name"); n != "" && !strings.EqualFold(n, z.Name) {
			continue
		}
		if a := q.Get("account.id"); a != "" && a != z.Account {
			continue
		}
		out = append(out, z.json())
	}
	writeList(w, r, out, 20, 50)
}

func (s *Server) getZone(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if z := s.zone(w, r); z != nil {
		writeOK(w, z.json())
	}
}

// ---- settings ----

var defaultSettings = map[string]any{
	"ssl": "flexible", "min_tls_version": "1.0", "always_use_https": "off",
	"automatic_https_rewrites": "on", "cache_level": "aggressive", "browser_cache_ttl": float64(14400),
	"always_online": "off", "rocket_loader": "off", "early_hints": "off", "brotli": "on",
	"http3": "on", "0rtt": "off", "ipv6": "on", "development_mode": "off",
	// New zones let Cloudflare pick the SSL mode itself.
	"ssl_automatic_mode": "auto", "tls_client_auth": "off",
}

var onOff = []any{"on", "off"}

var settingValues = map[string][]any{
	"ssl":                      {"off", "flexible", "full", "strict"},
	"min_tls_version":          {"1.0", "1.1", "1.2", "1.3"},
	"cache_level":              {"basic", "simplified", "aggressive"},
	"always_use_https":         onOff,
	"automatic_https_rewrites": onOff,
	"always_online":            onOff,
	"rocket_loader":            onOff,
	"early_hints":              onOff,
	"http3":                    onOff,
	"0rtt":                     onOff,
	"ipv6":                     onOff,
	"development_mode":         onOff,
	"brotli":                   {"on"},
	"ssl_automatic_mode":       {"auto", "custom"},
	"tls_client_auth":          onOff,
}

// browserTTLs are the values browser_cache_ttl accepts (0 respects origin headers).
var browserTTLs = []float64{0, 30, 60, 120, 300, 1200, 1800, 3600, 7200, 10800, 14400, 18000, 28800,
	43200, 57600, 72000, 86400, 172800, 259200, 345600, 432000, 691200, 1382400, 2073600, 2678400,
	5356800, 16070400, 31536000}

// retired settings answer like the service does after their end of life.
var retired = map[string]string{
	"minify": "Auto Minify was deprecated on 2024-08-05 and is no longer available",
}

func (s *Server) settingOf(w http.ResponseWriter, r *http.Request) (*zone, string, *setting) {
	z := s.zone(w, r)
	if z == nil {
		return nil, "", nil
	}
	id := r.PathValue("setting")
	if msg, ok := retired[id]; ok {
		writeErr(w, http.StatusBadRequest, 1011, msg)
		return nil, "", nil
	}
	st, ok := z.settings[id]
	if !ok {
		writeErr(w, http.StatusNotFound, 1003, "Unknown zone setting "+id)
		return nil, "", nil
	}
	return z, id, st
}

func settingJSON(id string, st *setting) map[string]any {
	return map[string]any{"id": id, "value": st.Value, "editable": st.Editable, "modified_on": st.Modified}
}

func (s *Server) getSetting(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, id, st := s.settingOf(w, r); st != nil {
		writeOK(w, settingJSON(id, st))
	}
}

func (s *Server) editSetting(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Value json.RawMessage `json:"value"`
	}
	if !decode(w, r, &body) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	z, id, st := s.settingOf(w, r)
	if st == nil {
		return
	}
	if !st.Editable {
		writeErr(w, http.StatusBadRequest, 1005, fmt.Sprintf("The setting %s is not editable on the %s plan", id, z.Plan))
		return
	}
	var v any
	if len(body.Value) == 0 || json.Unmarshal(body.Value, &v) != nil || v == nil {
		writeErr(w, http.StatusBadRequest, 1007, "Invalid value for zone setting "+id+": value is required")
		return
	}
	if id == "browser_cache_ttl" {
		n, ok := v.(float64)
		if !ok || !slices.Contains(browserTTLs, n) {
			writeErr(w, http.StatusBadRequest, 1007, fmt.Sprintf("Invalid value for zone setting browser_cache_ttl: %v is not an allowed TTL", v))
			return
		}
	} else if !slices.Contains(settingValues[id], v) {
		writeErr(w, http.StatusBadRequest, 1007, fmt.Sprintf("Invalid value for zone setting %s: %v", id, v))
		return
	}
	if msg := settingConflict(z, id, v); msg != "" {
		writeErr(w, http.StatusBadRequest, 1007, msg)
		return
	}
	st.Value, st.Modified = v, s.stamp()
	writeOK(w, settingJSON(id, st))
}

// settingConflict is why a value cannot be set given the zone's other
// settings: in automatic mode Cloudflare owns the SSL mode, and
// Authenticated Origin Pulls need an encrypted connection to the origin.
func settingConflict(z *zone, id string, v any) string {
	switch {
	case id == "ssl" && z.settings["ssl_automatic_mode"].Value == "auto":
		return "The SSL/TLS encryption mode cannot be changed while ssl_automatic_mode is auto; set ssl_automatic_mode to custom first"
	case id == "tls_client_auth" && v == "on" && z.settings["ssl"].Value != "full" && z.settings["ssl"].Value != "strict":
		return "Authenticated Origin Pulls need the SSL/TLS encryption mode full or strict"
	}
	return ""
}

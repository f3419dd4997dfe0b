// Package cfemu is a stateful emulator of the parts of the Cloudflare API
// that nekoctl calls, for tests anywhere in the repository. It answers under
// /client/v4 with Cloudflare's JSON envelope, validates requests the way the
// service does (including plan-tier limits), requires a bearer token, counts
// requests by method and path, and can inject latency, 429s, 5xx errors and
// lost responses.
package cfemu

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultToken is the API token the emulator accepts unless WithToken says otherwise.
const DefaultToken = "cfemu-test-token"

// DefaultAccount is the account id whose monitors and pools the emulator serves.
const DefaultAccount = "0123456789abcdef0123456789abcdef"

// Server is one emulated Cloudflare API.
type Server struct {
	srv   *httptest.Server
	token string
	mux   *http.ServeMux

	mu       sync.Mutex
	now      func() time.Time
	rng      *rand.Rand
	seq      int
	accounts map[string]*account
	zones    map[string]*zone // by id
	certs    map[string]*certificate
	caKey    *ecdsa.PrivateKey
	caCert   *x509.Certificate
	caPEM    string
	calls    map[string]int
	// inFlight counts requests being served; maxInFlight is its peak since
	// the last ResetCalls.
	inFlight, maxInFlight int
	faults                Faults
	bursts                bursts
	budget                budget
}

// Option configures a Server.
type Option func(*Server)

// WithToken sets the bearer token the emulator accepts.
func WithToken(tok string) Option { return func(s *Server) { s.token = tok } }

// WithClock sets the emulator's clock (certificate validity, timestamps).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithSeed makes injected random faults reproducible.
func WithSeed(seed uint64) Option {
	return func(s *Server) { s.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }
}

// New starts an emulator. When tb is not nil the server is closed when the
// test ends; otherwise call Close.
func New(tb testing.TB, opts ...Option) *Server {
	s := &Server{
		token:    DefaultToken,
		now:      time.Now,
		rng:      rand.New(rand.NewPCG(1, 2)),
		accounts: map[string]*account{},
		zones:    map[string]*zone{},
		certs:    map[string]*certificate{},
		calls:    map[string]int{},
		budget:   budget{limit: 1200, window: 5 * time.Minute},
	}
	for _, o := range opts {
		o(s)
	}
	if err := s.newCA(); err != nil {
		panic(fmt.Sprintf("cfemu: creating the emulator CA: %v", err))
	}
	s.account(DefaultAccount)
	s.mux = http.NewServeMux()
	s.routes()
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// URL is the API base URL, ending in /client/v4.
func (s *Server) URL() string { return s.srv.URL + "/client/v4" }

// Token is the accepted API token.
func (s *Server) Token() string { return s.token }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// CACertPEM is the emulator's Origin CA root, which signs every certificate it issues.
func (s *Server) CACertPEM() string { return s.caPEM }

func (s *Server) routes() {
	h := map[string]http.HandlerFunc{
		"GET /client/v4/zones":                                               s.listZones,
		"GET /client/v4/zones/{zone}":                                        s.getZone,
		"GET /client/v4/zones/{zone}/dns_records":                            s.listRecords,
		"POST /client/v4/zones/{zone}/dns_records":                           s.createRecord,
		"GET /client/v4/zones/{zone}/dns_records/{id}":                       s.getRecord,
		"PATCH /client/v4/zones/{zone}/dns_records/{id}":                     s.updateRecord,
		"PUT /client/v4/zones/{zone}/dns_records/{id}":                       s.updateRecord,
		"DELETE /client/v4/zones/{zone}/dns_records/{id}":                    s.deleteRecord,
		"GET /client/v4/zones/{zone}/settings/{setting}":                     s.getSetting,
		"PATCH /client/v4/zones/{zone}/settings/{setting}":                   s.editSetting,
		"GET /client/v4/zones/{zone}/rulesets/phases/{phase}/entrypoint":     s.getPhase,
		"PUT /client/v4/zones/{zone}/rulesets/phases/{phase}/entrypoint":     s.putPhase,
		"GET /client/v4/accounts/{account}/load_balancers/monitors":          s.listMonitors,
		"POST /client/v4/accounts/{account}/load_balancers/monitors":         s.createMonitor,
		"PUT /client/v4/accounts/{account}/load_balancers/monitors/{id}":     s.updateMonitor,
		"DELETE /client/v4/accounts/{account}/load_balancers/monitors/{id}":  s.deleteMonitor,
		"GET /client/v4/accounts/{account}/load_balancers/pools":             s.listPools,
		"POST /client/v4/accounts/{account}/load_balancers/pools":            s.createPool,
		"PUT /client/v4/accounts/{account}/load_balancers/pools/{id}":        s.updatePool,
		"PATCH /client/v4/accounts/{account}/load_balancers/pools/{id}":      s.patchPool,
		"DELETE /client/v4/accounts/{account}/load_balancers/pools/{id}":     s.deletePool,
		"GET /client/v4/accounts/{account}/load_balancers/pools/{id}/health": s.poolHealth,
		"GET /client/v4/zones/{zone}/load_balancers":                         s.listLBs,
		"POST /client/v4/zones/{zone}/load_balancers":                        s.createLB,
		"PUT /client/v4/zones/{zone}/load_balancers/{id}":                    s.updateLB,
		"DELETE /client/v4/zones/{zone}/load_balancers/{id}":                 s.deleteLB,
		"GET /client/v4/certificates":                                        s.listCerts,
		"POST /client/v4/certificates":                                       s.createCert,
		"GET /client/v4/certificates/{id}":                                   s.getCert,
		"DELETE /client/v4/certificates/{id}":                                s.revokeCert,
		"GET /client/v4/zones/{zone}/rate_limits":                            s.legacyRateLimits,
		"GET /client/v4/accounts/{account}/alerting/v3/policies":             s.listPolicies,
		"POST /client/v4/accounts/{account}/alerting/v3/policies":            s.createPolicy,
		"GET /client/v4/accounts/{account}/alerting/v3/policies/{id}":        s.getPolicy,
		"PUT /client/v4/accounts/{account}/alerting/v3/policies/{id}":        s.updatePolicy,
		"DELETE /client/v4/accounts/{account}/alerting/v3/policies/{id}":     s.deletePolicy,
		"POST /client/v4/zones/{zone}/rate_limits":                           s.legacyRateLimits,
	}
	for pattern, fn := range h {
		s.mux.HandleFunc(pattern, fn)
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, 7003, "Could not route to "+r.URL.Path+", perhaps your object identifier is invalid?")
	})
}

// serve authenticates, counts, injects faults and dispatches one request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.calls[r.Method+" "+r.URL.Path]++
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	f, lose := s.fault(r)
	latency := s.faults.Latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if latency > 0 {
		time.Sleep(latency)
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		writeErr(w, http.StatusForbidden, 10000, "Authentication error")
		return
	}
	if f != nil {
		f(w)
		return
	}
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, r)
	if lose && rec.Code < 300 {
		// The change is committed; the client never hears about it.
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// Calls returns a copy of the request counters, keyed "METHOD /client/v4/path"
// (query strings excluded). Requests answered by injected faults count too.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// TotalCalls is the number of requests received since the last ResetCalls.
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.calls {
		n += v
	}
	return n
}

// CallsMatching counts requests whose method is method and whose path
// contains fragment.
func (s *Server) CallsMatching(method, fragment string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.calls {
		m, p, _ := strings.Cut(k, " ")
		if (method == "" || m == method) && strings.Contains(p, fragment) {
			n += v
		}
	}
	return n
}

// Writes counts the requests since the last ResetCalls that are not reads.
func (s *Server) Writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.calls {
		if !strings.HasPrefix(k, http.MethodGet+" ") {
			n += v
		}
	}
	return n
}

// ResetCalls zeroes the request counters and the peak of requests in flight.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
	s.maxInFlight = s.inFlight
}

// MaxInFlight is the most requests served at once since the last
// ResetCalls: with latency injected, how many a client sent together.
func (s *Server) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInFlight
}

func (s *Server) nextID() string {
	s.seq++
	return fmt.Sprintf("%032x", uint64(s.rng.Uint32())<<32|uint64(s.seq))
}

// ---- envelope ----

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

type envelope struct {
	Success    bool        `json:"success"`
	Errors     []apiError  `json:"errors"`
	Messages   []apiError  `json:"messages"`
	Result     any         `json:"result"`
	ResultInfo *resultInfo `json:"result_info,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v envelope) {
	if v.Errors == nil {
		v.Errors = []apiError{}
	}
	if v.Messages == nil {
		v.Messages = []apiError{}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeOK(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, envelope{Success: true, Result: result})
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, envelope{Errors: []apiError{{Code: code, Message: msg}}})
}

// writeErrs answers 400 with every validation problem, as the service does.
func writeErrs(w http.ResponseWriter, errs []apiError) {
	writeJSON(w, http.StatusBadRequest, envelope{Errors: errs})
}

// writeList answers a page of a list; page and per_page come from the query.
func writeList[T any](w http.ResponseWriter, r *http.Request, items []T, defPerPage, maxPerPage int) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = defPerPage
	}
	perPage = min(perPage, maxPerPage)
	total := len(items)
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	pages := (total + perPage - 1) / perPage
	out := items[start:end]
	if out == nil {
		out = []T{}
	}
	writeJSON(w, http.StatusOK, envelope{Success: true, Result: out, ResultInfo: &resultInfo{
		Page: page, PerPage: perPage, Count: len(out), TotalCount: total, TotalPages: pages}})
}

// decode reads a JSON body; on failure it answers 400 and returns false.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		writeErr(w, http.StatusBadRequest, 9207, "Request body is invalid JSON: "+err.Error())
		return false
	}
	return true
}

func (s *Server) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }

// Seed performs one API request directly, bypassing authentication, fault
// injection and the counters, so tests can create objects "by hand" (as the
// dashboard or another team would). path is under /client/v4, e.g.
// "/zones/<id>/dns_records". It returns the envelope's result.
func (s *Server) Seed(method, path string, body any) (json.RawMessage, error) {
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req := httptest.NewRequest(method, "/client/v4"+path, rd)
	rec := httptest.NewRecorder()
	s.mux.ServeHTTP(rec, req)
	var env struct {
		Success bool            `json:"success"`
		Errors  []apiError      `json:"errors"`
		Result  json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		return nil, err
	}
	if !env.Success {
		return nil, fmt.Errorf("cfemu: %s %s: %d %v", method, path, rec.Code, env.Errors)
	}
	return env.Result, nil
}

// ZoneID returns the id of a zone added with AddZone.
func (s *Server) ZoneID(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.zoneByName(name).ID
}

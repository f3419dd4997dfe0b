// Package atlas is a stateful emulator of the MongoDB Atlas Administration
// API v2 calls nekoctl makes, served by httptest. It keeps projects,
// clusters (with an asynchronous state machine), backup schedules, database
// users and IP access lists, validates requests as Atlas does, answers in
// Atlas's JSON shapes and error codes, authenticates with HTTP Digest (a real
// 401 challenge) or OAuth client credentials, counts requests and injects
// faults (latency, 429/503 with Retry-After, a lost create response).
//
// Error codes the published API documents (DUPLICATE_CLUSTER_NAME,
// CLUSTER_NOT_FOUND, GROUP_ALREADY_EXISTS, CANNOT_UPDATE_PAUSED_CLUSTER,
// RATE_LIMITED, ...) are used as documented; topology rules without a
// documented code answer 400 VALIDATION_ERROR or INVALID_ATTRIBUTE.
package atlas

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"
)

// APIPrefix is the path under which the Administration API v2 is served.
const APIPrefix = "/api/atlas/v2"

// Default credentials accepted by a server built with zero Options.
const (
	DefaultPublicKey    = "emulator-public"
	DefaultPrivateKey   = "emulator-private"
	DefaultClientID     = "mdb_sa_id_emulator"
	DefaultClientSecret = "mdb_sa_sk_emulator"
	DefaultOrgID        = "5f0000000000000000000001"
)

// Options configure a Server. Zero values give default credentials, one
// organization (DefaultOrgID), real time and 50 ms state transitions.
type Options struct {
	PublicKey, PrivateKey  string
	ClientID, ClientSecret string
	// OrgIDs are the organizations that exist; DefaultOrgID when empty.
	OrgIDs []string
	// CreateDuration, UpdateDuration and DeleteDuration are how long a
	// cluster stays CREATING, UPDATING and DELETING.
	CreateDuration, UpdateDuration, DeleteDuration time.Duration
	// Now is the clock that drives state transitions; time.Now when nil.
	Now func() time.Time
}

// Fault makes matching authenticated requests fail. By default the request
// is refused before it is handled (nothing changes); with Applied it is
// handled and then the answer is replaced, and with Lost it is handled and
// the connection closed without an answer: the two ways a client can lose
// the outcome of a create that did happen.
type Fault struct {
	// Method and PathContains select requests; empty matches all.
	Method       string
	PathContains string
	// Status is the answer: 429 (RATE_LIMITED), 500 (UNEXPECTED_ERROR) or
	// 503 (SERVICE_UNAVAILABLE). Ignored with Lost.
	Status int
	// RetryAfter is the Retry-After header value; empty sends none.
	RetryAfter string
	// Times is how many requests fail; 0 means one.
	Times int
	// Applied handles the request before answering with Status.
	Applied bool
	// Lost handles the request, then closes the connection unanswered.
	Lost bool
}

// Server is the emulator. All methods are safe for concurrent use.
type Server struct {
	srv  *httptest.Server
	opts Options

	mu        sync.Mutex
	orgs      map[string]bool
	projects  map[string]*project // by id
	nonces    map[string]bool
	tokens    map[string]bool
	counts    map[string]int
	bodies    map[string][]string
	challenge int
	// badChallenges is how many coming 401s carry a malformed challenge.
	badChallenges int
	faults        []*Fault
	latency       time.Duration
	idSeq         int
}

// New starts an emulator. Close it when done (t.Cleanup(s.Close)).
func New(opts Options) *Server {
	if opts.PublicKey == "" {
		opts.PublicKey, opts.PrivateKey = DefaultPublicKey, DefaultPrivateKey
	}
	if opts.ClientID == "" {
		opts.ClientID, opts.ClientSecret = DefaultClientID, DefaultClientSecret
	}
	if len(opts.OrgIDs) == 0 {
		opts.OrgIDs = []string{DefaultOrgID}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	for _, d := range []*time.Duration{&opts.CreateDuration, &opts.UpdateDuration, &opts.DeleteDuration} {
		if *d == 0 {
			*d = 50 * time.Millisecond
		}
	}
	s := &Server{opts: opts, orgs: map[string]bool{}, projects: map[string]*project{},
		nonces: map[string]bool{}, tokens: map[string]bool{}, counts: map[string]int{}, bodies: map[string][]string{}}
	for _, o := range opts.OrgIDs {
		s.orgs[o] = true
	}
	s.srv = httptest.NewServer(s.routes())
	return s
}

// URL is the base URL to give the SDK (without /api/atlas/v2).
func (s *Server) URL() string { return s.srv.URL }

// Client is an HTTP client for the server (no authentication).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// SetDurations changes how long later transitions take.
func (s *Server) SetDurations(create, update, del time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.CreateDuration, s.opts.UpdateDuration, s.opts.DeleteDuration = create, update, del
}

// SetLatency delays every API request by d.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// AddFault queues a fault; faults are consumed in the order added.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times == 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// LoseNextClusterCreate makes the next cluster create succeed on the server
// while its response is lost: the connection is closed without an answer.
func (s *Server) LoseNextClusterCreate() {
	s.AddFault(Fault{Method: http.MethodPost, PathContains: "/clusters", Lost: true})
}

// SendBadChallenges makes the next n Digest challenges malformed (an
// attribute the Digest scheme does not define), as a broken proxy in front
// of Atlas might send: a client must fail at once instead of retrying.
func (s *Server) SendBadChallenges(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.badChallenges += n
}

// Requests returns the number of authenticated API requests per route,
// keyed "METHOD /path/{pattern}" (without the /api/atlas/v2 prefix).
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Bodies returns the request bodies received on a route (same keys as
// Requests), oldest first, for tests that check what a client sent.
func (s *Server) Bodies(key string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies[key]...)
}

// Total is the number of authenticated API requests served (faulted ones included).
func (s *Server) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.counts {
		n += v
	}
	return n
}

// Mutations is the number of authenticated POST, PATCH and DELETE requests.
func (s *Server) Mutations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.counts {
		if !strings.HasPrefix(k, "GET ") {
			n += v
		}
	}
	return n
}

// Challenges is the number of 401 answers sent (Digest challenges and refused credentials).
func (s *Server) Challenges() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.challenge
}

// ResetCounts zeroes the request counters.
func (s *Server) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
	s.bodies = map[string][]string{}
	s.challenge = 0
}

// CountSummary renders the counters sorted, for test logs.
func (s *Server) CountSummary() string {
	c := s.Requests()
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%3d %s\n", c[k], k)
	}
	return b.String()
}

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) newID() string {
	s.idSeq++
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%08x%s", s.idSeq, hex.EncodeToString(b[:]))
}

// route registers one API operation. Every request is authenticated, then
// counted, delayed and possibly faulted, then handled with the state lock
// held and clusters advanced to the current time.
func (s *Server) route(mux *http.ServeMux, method, path string, h func(w http.ResponseWriter, r *http.Request) (int, any)) {
	key := method + " " + path
	mux.HandleFunc(method+" "+APIPrefix+path, func(w http.ResponseWriter, r *http.Request) {
		if !s.authenticate(w, r) {
			return
		}
		var raw []byte
		if r.Body != nil && r.Method != http.MethodGet {
			raw, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
		}
		s.mu.Lock()
		s.counts[key]++
		if raw != nil {
			s.bodies[key] = append(s.bodies[key], string(raw))
		}
		lat := s.latency
		f := s.takeFault(r)
		s.mu.Unlock()
		if lat > 0 {
			time.Sleep(lat)
		}
		if f != nil && !f.Applied && !f.Lost {
			writeFault(w, r, f)
			return
		}
		s.mu.Lock()
		s.advance()
		status, body := h(w, r)
		s.mu.Unlock()
		switch {
		case f != nil && f.Lost:
			dropConnection(w)
		case f != nil:
			writeFault(w, r, f)
		default:
			writeJSON(w, r, status, body)
		}
	})
}

func writeFault(w http.ResponseWriter, r *http.Request, f *Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	code := "RATE_LIMITED"
	switch f.Status {
	case http.StatusServiceUnavailable:
		code = "SERVICE_UNAVAILABLE"
	case http.StatusInternalServerError:
		code = "UNEXPECTED_ERROR"
	}
	writeJSON(w, r, f.Status, apiError(f.Status, code, "injected fault"))
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}

func (s *Server) takeFault(r *http.Request) *Fault {
	for i, f := range s.faults {
		if (f.Method == "" || f.Method == r.Method) && strings.Contains(r.URL.Path, f.PathContains) {
			f.Times--
			if f.Times <= 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			return f
		}
	}
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth/token", s.token)
	mux.HandleFunc("POST /api/oauth/revoke", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })

	s.route(mux, "POST", "/groups", s.createProject)
	s.route(mux, "GET", "/groups/{groupId}", s.getProject)
	s.route(mux, "PATCH", "/groups/{groupId}", s.updateProject)
	s.route(mux, "DELETE", "/groups/{groupId}", s.deleteProject)

	s.route(mux, "GET", "/groups/{groupId}/clusters", s.listClusters)
	s.route(mux, "POST", "/groups/{groupId}/clusters", s.createCluster)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}", s.getCluster)
	s.route(mux, "PATCH", "/groups/{groupId}/clusters/{clusterName}", s.updateCluster)
	s.route(mux, "DELETE", "/groups/{groupId}/clusters/{clusterName}", s.deleteCluster)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}/status", s.clusterStatus)
	s.route(mux, "GET", "/groups/{groupId}/clusters/provider/regions", s.providerRegions)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}/backup/schedule", s.getSchedule)
	s.route(mux, "PATCH", "/groups/{groupId}/clusters/{clusterName}/backup/schedule", s.updateSchedule)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}/backup/snapshots", s.listSnapshots)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs", s.listRestoreJobs)
	s.route(mux, "POST", "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs", s.createRestoreJob)
	s.route(mux, "GET", "/groups/{groupId}/clusters/{clusterName}/backup/restoreJobs/{restoreJobId}", s.getRestoreJob)
	s.route(mux, "POST", "/groups/{groupId}/clusters/{clusterName}/restartPrimaries", s.restartPrimaries)

	s.route(mux, "GET", "/groups/{groupId}/databaseUsers", s.listUsers)
	s.route(mux, "POST", "/groups/{groupId}/databaseUsers", s.createUser)
	s.route(mux, "GET", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", s.getUser)
	s.route(mux, "PATCH", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", s.updateUser)
	s.route(mux, "DELETE", "/groups/{groupId}/databaseUsers/{databaseName}/{username}", s.deleteUser)

	s.route(mux, "GET", "/groups/{groupId}/accessList", s.listAccess)
	s.route(mux, "POST", "/groups/{groupId}/accessList", s.createAccess)
	s.route(mux, "GET", "/groups/{groupId}/accessList/{entryValue}", s.getAccess)
	s.route(mux, "DELETE", "/groups/{groupId}/accessList/{entryValue}", s.deleteAccess)
	s.route(mux, "GET", "/groups/{groupId}/accessList/{entryValue}/status", s.accessStatus)

	s.route(mux, "GET", "/groups/{groupId}/alertConfigs", s.listAlertConfigs)
	s.route(mux, "POST", "/groups/{groupId}/alertConfigs", s.createAlertConfig)
	s.route(mux, "GET", "/groups/{groupId}/alertConfigs/{alertConfigId}", s.getAlertConfig)
	s.route(mux, "PUT", "/groups/{groupId}/alertConfigs/{alertConfigId}", s.updateAlertConfig)
	s.route(mux, "DELETE", "/groups/{groupId}/alertConfigs/{alertConfigId}", s.deleteAlertConfig)

	notFound := func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusNotFound, apiError(http.StatusNotFound, "RESOURCE_NOT_FOUND",
			fmt.Sprintf("No resource found for %s %s.", r.Method, r.URL.Path)))
	}
	mux.HandleFunc("/", notFound)
	// /groups/byName/{name} overlaps /groups/{groupId}/clusters in ServeMux's
	// rules, so it gets a mux of its own.
	byName := http.NewServeMux()
	s.route(byName, "GET", "/groups/byName/{groupName}", s.getProjectByName)
	byName.HandleFunc("/", notFound)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, APIPrefix+"/groups/byName/") {
			byName.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// ErrorBody is Atlas's error document.
type ErrorBody struct {
	Detail     string `json:"detail"`
	Error      int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
}

func apiError(status int, code, detail string, params ...any) ErrorBody {
	if params == nil {
		params = []any{}
	}
	return ErrorBody{Detail: detail, Error: status, ErrorCode: code, Parameters: params, Reason: http.StatusText(status)}
}

func notFound(code, detail string, params ...any) (int, any) {
	return http.StatusNotFound, apiError(http.StatusNotFound, code, detail, params...)
}

func badRequest(code, detail string, params ...any) (int, any) {
	return http.StatusBadRequest, apiError(http.StatusBadRequest, code, detail, params...)
}

func conflict(code, detail string, params ...any) (int, any) {
	return http.StatusConflict, apiError(http.StatusConflict, code, detail, params...)
}

// writeJSON answers in the versioned media type the client asked for.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	ct := r.Header.Get("Accept")
	if !strings.HasPrefix(ct, "application/vnd.atlas.") {
		ct = "application/json"
	}
	if status == http.StatusNoContent || body == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// decode reads a JSON body; read-only fields a client sends back are ignored.
func decode(r *http.Request, v any) error {
	return json.NewDecoder(r.Body).Decode(v)
}

func invalidJSON(err error) (int, any) {
	return badRequest("INVALID_JSON_ATTRIBUTE", "Received JSON does not match expected format: "+err.Error())
}

// paginated wraps a list the way every Atlas list endpoint does.
func paginated[T any](items []T) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"links": []any{}, "results": items, "totalCount": len(items)}
}

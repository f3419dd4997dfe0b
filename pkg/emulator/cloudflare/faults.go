package cfemu

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Faults are injected into every request until changed.
type Faults struct {
	// Latency is added to every request.
	Latency time.Duration
	// ErrorRate is the share (0..1) of requests answered 500/502/503 before
	// anything is done.
	ErrorRate float64
	// RateLimitRate is the share (0..1) of requests answered 429.
	RateLimitRate float64
	// RetryAfter is the Retry-After header of injected 429s, in seconds (default 1).
	RetryAfter int
}

// budget is the service's request limit per token: past limit requests in
// a window, every request is answered 429 until the window ends.
type budget struct {
	limit   int
	window  time.Duration
	start   time.Time
	used    int
	refused int
}

// WithBudget sets the request budget (default: Cloudflare's 1200 per 5
// minutes); limit 0 turns it off.
func WithBudget(limit int, window time.Duration) Option {
	return func(s *Server) { s.budget = budget{limit: limit, window: window} }
}

// BudgetRefusals is how many requests were answered 429 for exceeding the budget.
func (s *Server) BudgetRefusals() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.budget.refused
}

// overBudget counts one request under s.mu and reports the seconds left in
// the window when the budget is exhausted.
func (s *Server) overBudget() (int, bool) {
	b := &s.budget
	if b.limit <= 0 {
		return 0, false
	}
	now := s.now()
	if b.start.IsZero() || now.Sub(b.start) >= b.window {
		b.start, b.used = now, 0
	}
	b.used++
	if b.used <= b.limit {
		return 0, false
	}
	b.refused++
	left := b.window - now.Sub(b.start)
	return int((left + time.Second - 1) / time.Second), true
}

type bursts struct {
	rateLimited int // next N requests get 429
	serverError int // next N requests get 5xx
	lose        []loseRule
}

type loseRule struct {
	method, fragment string
	n                int
}

// SetFaults replaces the standing fault configuration.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// RateLimitNext answers the next n requests with 429 and Retry-After.
func (s *Server) RateLimitNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bursts.rateLimited += n
}

// FailNext answers the next n requests with 503 before doing anything.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bursts.serverError += n
}

// LoseResponses makes the next n successful requests with this method whose
// path contains fragment commit their change and then drop the connection
// without answering.
func (s *Server) LoseResponses(method, fragment string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bursts.lose = append(s.bursts.lose, loseRule{method: method, fragment: fragment, n: n})
}

// fault decides, under s.mu, whether this request is answered by a fault
// and whether its response is to be lost.
func (s *Server) fault(r *http.Request) (func(http.ResponseWriter), bool) {
	retry := s.faults.RetryAfter
	if retry <= 0 {
		retry = 1
	}
	tooMany := func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		w.Header().Set("Ratelimit", "limit=1200, remaining=0, reset="+strconv.Itoa(retry))
		w.Header().Set("Ratelimit-Policy", "1200;w=300")
		writeErr(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
	}
	codes := []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable}
	serverErr := func(w http.ResponseWriter) {
		code := codes[s.seq%len(codes)]
		writeErr(w, code, 10001, "Internal server error")
	}
	if left, over := s.overBudget(); over {
		limit := s.budget.limit
		return func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", strconv.Itoa(left))
			w.Header().Set("Ratelimit", "limit="+strconv.Itoa(limit)+", remaining=0, reset="+strconv.Itoa(left))
			writeErr(w, http.StatusTooManyRequests, 971, "Please wait and consider throttling your request speed")
		}, false
	}
	switch {
	case s.bursts.rateLimited > 0:
		s.bursts.rateLimited--
		return tooMany, false
	case s.bursts.serverError > 0:
		s.bursts.serverError--
		return serverErr, false
	case s.faults.RateLimitRate > 0 && s.rng.Float64() < s.faults.RateLimitRate:
		return tooMany, false
	case s.faults.ErrorRate > 0 && s.rng.Float64() < s.faults.ErrorRate:
		s.seq++
		return serverErr, false
	}
	for i := range s.bursts.lose {
		l := &s.bursts.lose[i]
		if l.n > 0 && l.method == r.Method && strings.Contains(r.URL.Path, l.fragment) {
			l.n--
			return nil, true
		}
	}
	return nil, false
}

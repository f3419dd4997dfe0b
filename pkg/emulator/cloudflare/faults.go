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

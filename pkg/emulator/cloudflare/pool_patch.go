package cfemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// patchPool is Cloudflare's "Patch Pool": the given fields over the stored
// pool, validated as a full update is (a drill disables a pool this way).
func (s *Server) patchPool(w http.ResponseWriter, r *http.Request) {
	var patch map[string]json.RawMessage
	if !decode(w, r, &patch) {
		return
	}
	for _, k := range []string{"id", "created_on", "modified_on"} {
		delete(patch, k)
	}
	s.mu.Lock()
	a := s.acct(w, r)
	if a == nil {
		s.mu.Unlock()
		return
	}
	i := findByID(a.pools, func(p *Pool) string { return p.ID }, r.PathValue("id"))
	if i < 0 {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, 1003, "pool not found")
		return
	}
	cur, _ := json.Marshal(a.pools[i])
	s.mu.Unlock()
	var merged map[string]json.RawMessage
	_ = json.Unmarshal(cur, &merged)
	for k, v := range patch {
		merged[k] = v
	}
	body, _ := json.Marshal(merged)
	full := r.Clone(r.Context())
	full.Body, full.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	s.putPool(w, full, true)
}

package atlas

import (
	"crypto/md5" //nolint:gosec // HTTP Digest as Atlas speaks it uses MD5.
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

const digestRealm = "MMS Public API"

// authenticate accepts a Digest response to a nonce this server issued, or a
// bearer token it minted. Otherwise it answers 401 with a Digest challenge.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(h, "Bearer "):
		s.mu.Lock()
		ok := s.tokens[strings.TrimPrefix(h, "Bearer ")]
		s.mu.Unlock()
		if ok {
			return true
		}
	case strings.HasPrefix(h, "Digest "):
		if s.digestOK(r.Method, h) {
			return true
		}
	}
	nonce := randomHex(16)
	s.mu.Lock()
	s.nonces[nonce] = true
	s.challenge++
	bad := s.badChallenges > 0
	if bad {
		s.badChallenges--
	}
	s.mu.Unlock()
	challenge := fmt.Sprintf(`Digest realm=%q, domain="", nonce=%q, algorithm=MD5, qop="auth", stale=false`, digestRealm, nonce)
	if bad {
		challenge += `, x-broken="yes"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeJSON(w, r, http.StatusUnauthorized, apiError(http.StatusUnauthorized, "NOT_USER_OR_API_KEY",
		"You are not authorized for this resource."))
	return false
}

func (s *Server) digestOK(method, header string) bool {
	p := parseDigest(strings.TrimPrefix(header, "Digest "))
	s.mu.Lock()
	known := s.nonces[p["nonce"]]
	s.mu.Unlock()
	if !known || p["username"] != s.opts.PublicKey || p["realm"] != digestRealm {
		return false
	}
	ha1 := md5hex(p["username"] + ":" + digestRealm + ":" + s.opts.PrivateKey)
	ha2 := md5hex(method + ":" + p["uri"])
	var want string
	if p["qop"] == "auth" {
		want = md5hex(strings.Join([]string{ha1, p["nonce"], p["nc"], p["cnonce"], "auth", ha2}, ":"))
	} else {
		want = md5hex(ha1 + ":" + p["nonce"] + ":" + ha2)
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(p["response"])) == 1
}

// parseDigest splits `k="v", k=v` pairs; quoted values may hold commas.
func parseDigest(s string) map[string]string {
	out := map[string]string{}
	for len(s) > 0 {
		s = strings.TrimLeft(s, " ,")
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			break
		}
		k := strings.TrimSpace(s[:eq])
		s = s[eq+1:]
		var v string
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				break
			}
			v, s = s[1:1+end], s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			v, s = strings.TrimSpace(s[:end]), s[end:]
		}
		out[k] = v
	}
	return out
}

// token is the OAuth 2.0 client-credentials endpoint of service accounts.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		_ = r.ParseForm()
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	_ = r.ParseForm()
	if r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	if id != s.opts.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		s.mu.Lock()
		s.challenge++
		s.mu.Unlock()
		writeJSON(w, r, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	tok := randomHex(24)
	s.mu.Lock()
	s.tokens[tok] = true
	s.counts["POST /api/oauth/token"]++
	s.mu.Unlock()
	writeJSON(w, r, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // protocol-mandated
	return hex.EncodeToString(sum[:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

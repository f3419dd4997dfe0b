package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/neko-defense/nekoctl/pkg/workload/auth"
	"github.com/neko-defense/nekoctl/pkg/workload/ratelimit"
)

// Answering a cache hit through gqlgen costs more than the Redis lookup
// itself: decoding the body, building the operation context, the depth and
// complexity checks and the extension chain, all to return bytes that are
// already in Redis. The cache key is a function of the request body alone
// (the query, operation name and variables it carries; the role is added
// separately), and so is everything gqlgen checks before the cache is
// consulted. So once a body has gone through gqlgen and turned out to be a
// cacheable query, its key is remembered, and the next request with the
// same bytes is looked up directly. Anything else, and every miss, takes
// the full path, which answers exactly as before.

// Memo bounds: clients send few distinct cacheable bodies, and bodies that
// differ on every request (a cursor, say) must not grow it without limit.
const (
	maxMemoBodies   = 2000
	maxMemoBodySize = 4 << 10
)

// bodyKey carries a request body that is not in the memo yet from the
// middleware to InterceptResponse, which records its key.
type bodyKey struct{}

// Middleware answers cache hits for bodies whose key is known without
// going through next, the GraphQL handler. It must run after the auth
// middleware (the key carries the caller's role).
func (e *Extension) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		role := auth.FromContext(r.Context()).Role
		if role == auth.RoleAnonymous || !plainJSONPost(r) {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			// Too large, or a broken connection: gqlgen reports it, with
			// the same error, as it did before this middleware existed.
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			next.ServeHTTP(w, r)
			return
		}
		digest, known := e.memoized(body)
		// Whatever runs next reads the body again.
		replay := func(r *http.Request) *http.Request {
			r.Body = io.NopCloser(bytes.NewReader(body))
			return r
		}
		if !known {
			if len(body) <= maxMemoBodySize {
				r = r.WithContext(context.WithValue(r.Context(), bodyKey{}, body))
			}
			next.ServeHTTP(w, replay(r))
			return
		}
		key := keyFor(role, digest)
		data, found, ok := e.prefetched(r.Context(), key)
		if !ok {
			data, found, err = e.store.Get(r.Context(), key)
		}
		if err != nil || !found {
			// The full path looks again and counts the miss or bypass.
			next.ServeHTTP(w, replay(r))
			return
		}
		out, err := e.hit(key, data)
		if err != nil {
			// Not JSON, so never stored by this server: let gqlgen fail on
			// it the way it does.
			next.ServeHTTP(w, replay(r))
			return
		}
		e.count("hit")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}

// hitPrefix and hitSuffix surround the data of a hit's response.
const hitPrefix, hitSuffix = `{"data":`, `,"extensions":{"cache":"HIT"}}`

// hitResponse is the body gqlgen's POST transport writes for a hit, so
// that the bytes on the wire do not depend on the path taken: json.Marshal
// of the response, which compacts the data and escapes <, >, & and the
// line separators in it. Cached data is compact and seldom has those, so
// usually a compacting copy is all it takes, without reflection.
func hitResponse(data []byte) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(hitPrefix) + len(data) + len(hitSuffix))
	b.WriteString(hitPrefix)
	if err := json.Compact(&b, data); err == nil && !needsEscape(b.Bytes()[len(hitPrefix):]) {
		b.WriteString(hitSuffix)
		return b.Bytes(), nil
	}
	return json.Marshal(&graphql.Response{Data: data, Extensions: map[string]any{"cache": "HIT"}})
}

// needsEscape reports whether json.Marshal would escape something in data.
// (bytes.ContainsAny with the two line separators in the set would decode
// every rune.)
func needsEscape(data []byte) bool {
	return bytes.ContainsAny(data, "<>&") || bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029"))
}

// hitMemo remembers the response built for each entry's data: building it
// is a pass over the data, and a hot entry is answered many times over
// before it changes.
type hitMemo struct {
	mu sync.RWMutex
	m  map[string]hitBytes
}

type hitBytes struct{ data, out []byte }

// maxMemoHitSize keeps large entries out of the hit memo.
const maxMemoHitSize = 64 << 10

func (e *Extension) hit(key string, data []byte) ([]byte, error) {
	e.hits.mu.RLock()
	h, ok := e.hits.m[key]
	e.hits.mu.RUnlock()
	if ok && bytes.Equal(h.data, data) {
		return h.out, nil
	}
	out, err := hitResponse(data)
	if err != nil || len(data) > maxMemoHitSize {
		return out, err
	}
	e.hits.mu.Lock()
	defer e.hits.mu.Unlock()
	if e.hits.m == nil || len(e.hits.m) >= maxMemoBodies {
		e.hits.m = make(map[string]hitBytes)
	}
	e.hits.m[key] = hitBytes{data: data, out: out}
	return out, nil
}

// prefetched returns the entry key when the rate limiter read it in its
// round trip (see Prefetch), unless invalidations are pending: then only
// Get, which retries them first, may read the cache.
func (e *Extension) prefetched(ctx context.Context, key string) (data []byte, found, ok bool) {
	data, found, ok = ratelimit.Prefetched(ctx, e.store.Key(key))
	if !ok || e.store.hasPending() {
		return nil, false, false
	}
	return data, found, true
}

// Prefetch lets the rate limiter read a request's cache entry in the same
// Redis round trip as its count, when the request is one Middleware may
// answer: its body is known and small, and its token already verified
// (identify returns the identity of verified tokens only; the rate limit
// comes before authentication, and must stay cheap for the requests it
// rejects). Such a body is read here and replayed to the handlers after.
func (e *Extension) Prefetch(identify func(*http.Request) (auth.Identity, bool)) ratelimit.Prefetch {
	return func(r *http.Request) (*http.Request, string) {
		if r.ContentLength <= 0 || r.ContentLength > maxMemoBodySize || !plainJSONPost(r) {
			return r, ""
		}
		id, ok := identify(r)
		if !ok || id.Role == auth.RoleAnonymous {
			return r, ""
		}
		body := make([]byte, r.ContentLength)
		n, err := io.ReadFull(r.Body, body)
		if err != nil {
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:n]), errReader{err}))
			return r, ""
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		digest, known := e.memoized(body)
		if !known || e.store.hasPending() {
			return r, ""
		}
		return r, e.store.Key(keyFor(id.Role, digest))
	}
}

// plainJSONPost reports whether gqlgen's POST transport would take r and
// answer with Content-Type application/json: only those requests are
// answered here.
func plainJSONPost(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Header.Get("Upgrade") != "" {
		return false
	}
	switch r.Header.Get("Accept") {
	case "", "*/*", "application/json":
	default:
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(ct)
	return err == nil && mediaType == "application/json"
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// bodyMemo maps request bodies of cacheable queries to their key digests.
type bodyMemo struct {
	mu sync.RWMutex
	m  map[string]string
}

func (e *Extension) memoized(body []byte) (digest string, ok bool) {
	e.bodies.mu.RLock()
	digest, ok = e.bodies.m[string(body)]
	e.bodies.mu.RUnlock()
	return digest, ok
}

// remember records the digest of the body the middleware passed in ctx.
func (e *Extension) remember(ctx context.Context, digest string) {
	body, ok := ctx.Value(bodyKey{}).([]byte)
	if !ok {
		return
	}
	e.bodies.mu.Lock()
	defer e.bodies.mu.Unlock()
	if e.bodies.m == nil || len(e.bodies.m) >= maxMemoBodies {
		// Starting over keeps the bound and lets the bodies in use now
		// back in at once.
		e.bodies.m = make(map[string]string)
	}
	e.bodies.m[string(body)] = digest
}

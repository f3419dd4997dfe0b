package cache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"golang.org/x/sync/singleflight"

	"github.com/neko-defense/nekoctl/pkg/workload/auth"
)

// Classes maps each cacheable top-level query field (its class) to the tags
// of the data it reads.
var Classes = map[string][]string{
	"threatActor":            {TagActors},
	"threatActors":           {TagActors},
	"threatCountsByCategory": {TagActors},
	"honeypotTriggers":       {TagTriggers},
	"honeypotStats":          {TagTriggers},
}

// Counter records lookups: hit, miss or bypass.
type Counter func(result string)

// Extension is the gqlgen extension that answers queries from the cache
// and fills it. Mutations and responses with errors are never cached.
type Extension struct {
	store *Store
	ttls  map[string]time.Duration
	count Counter
	// lifetime ends when the server cancels the work in flight.
	lifetime context.Context

	// flight lets one request per key compute a missing answer while the
	// others that miss at the same moment wait for it: when a popular entry
	// expires, the database sees one query, not one per client.
	flight singleflight.Group

	// normalized memoizes the normalized text of recent raw queries.
	normalized sync.Map
	size       int64
	sizeMu     sync.Mutex

	// bodies lets Middleware answer hits without gqlgen (http.go).
	bodies bodyMemo
	hits   hitMemo
}

// maxNormalized bounds the memo; clients send few distinct queries.
const maxNormalized = 2000

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*Extension)(nil)

// NewExtension returns the extension; ttls are per class (0 disables).
// The work of a miss outlives the request that started it but not
// lifetime, which the server cancels when it shuts down.
func NewExtension(s *Store, ttls map[string]time.Duration, count Counter, lifetime context.Context) *Extension {
	return &Extension{store: s, ttls: ttls, count: count, lifetime: lifetime}
}

// ExtensionName implements graphql.HandlerExtension.
func (e *Extension) ExtensionName() string { return "ResponseCache" }

// Validate implements graphql.HandlerExtension.
func (e *Extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptResponse implements graphql.ResponseInterceptor.
func (e *Extension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx)
	role := auth.FromContext(ctx).Role
	ttl, tags, ok := e.policy(op)
	if !ok || role == auth.RoleAnonymous {
		return next(ctx)
	}
	digest := e.digest(op)
	e.remember(ctx, digest)
	key := keyFor(role, digest)
	if data, found, err := e.store.Get(ctx, key); err == nil && found {
		e.count("hit")
		return &graphql.Response{Data: data, Extensions: map[string]any{"cache": "HIT"}}
	} else if err != nil {
		e.count("bypass")
		return next(ctx)
	}
	e.count("miss")
	v, _, _ := e.flight.Do(key, func() (any, error) {
		// Detached from this caller's cancellation: others may be waiting
		// for the answer. The store's deadlines still bound the work, and
		// shutdown cancels it.
		ctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
		defer cancel(nil)
		defer context.AfterFunc(e.lifetime, func() { cancel(context.Cause(e.lifetime)) })()
		resp := next(ctx)
		if resp != nil && len(resp.Errors) == 0 && resp.Data != nil {
			// A failed write only costs a later miss; Redis problems are
			// counted by its breaker.
			_ = e.store.Set(ctx, key, resp.Data, ttl, tags)
			resp.Extensions = map[string]any{"cache": "MISS"}
		}
		return resp, nil
	})
	// The response may be shared with other waiters: hand out a copy of
	// the envelope (the data bytes are never modified).
	resp := *v.(*graphql.Response)
	return &resp
}

// policy returns the TTL and tags of a query: the shortest TTL of its
// top-level fields, and all their tags. ok is false when it must not be
// cached: mutations, introspection, `me`, or a class with TTL 0.
func (e *Extension) policy(op *graphql.OperationContext) (ttl time.Duration, tags []string, ok bool) {
	if op.Operation == nil || op.Operation.Operation != ast.Query {
		return 0, nil, false
	}
	for _, sel := range op.Operation.SelectionSet {
		f, isField := sel.(*ast.Field)
		if !isField {
			return 0, nil, false // top-level fragments: not worth the analysis
		}
		if f.Name == "__typename" {
			continue
		}
		classTags, known := Classes[f.Name]
		classTTL := e.ttls[f.Name]
		if !known || classTTL <= 0 {
			return 0, nil, false
		}
		if ttl == 0 || classTTL < ttl {
			ttl = classTTL
		}
		for _, t := range classTags {
			if !contains(tags, t) {
				tags = append(tags, t)
			}
		}
	}
	return ttl, tags, ttl > 0
}

// keyFor is the cache key of a query's digest for role.
func keyFor(role, digest string) string {
	return "q:" + lowerRole(role) + ":" + digest
}

// lowerRole spares strings.ToLower's allocation for the known roles.
func lowerRole(role string) string {
	switch role {
	case auth.RoleViewer:
		return "viewer"
	case auth.RoleAdmin:
		return "admin"
	}
	return strings.ToLower(role)
}

// digest is a digest of the normalized query, operation name and variables
// (JSON with sorted keys).
func (e *Extension) digest(op *graphql.OperationContext) string {
	h := sha256.New()
	h.Write([]byte(e.normalize(op)))
	h.Write([]byte{0})
	h.Write([]byte(op.OperationName))
	h.Write([]byte{0})
	vars, _ := json.Marshal(op.Variables)
	h.Write(vars)
	return hex.EncodeToString(h.Sum(nil))
}

// normalize prints the parsed document canonically, so that whitespace,
// comments and commas do not split the cache.
func (e *Extension) normalize(op *graphql.OperationContext) string {
	if v, ok := e.normalized.Load(op.RawQuery); ok {
		return v.(string)
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatQueryDocument(op.Doc)
	n := b.String()
	e.sizeMu.Lock()
	if e.size < maxNormalized {
		e.size++
		e.normalized.Store(op.RawQuery, n)
	}
	e.sizeMu.Unlock()
	return n
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

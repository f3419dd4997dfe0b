package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/neko-defense/nekoctl/pkg/workload/auth"
	"github.com/neko-defense/nekoctl/pkg/workload/graph/generated"
	"github.com/neko-defense/nekoctl/pkg/workload/graph/model"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// Invalidator drops cached responses computed from the tagged data.
type Invalidator interface {
	Invalidate(ctx context.Context, tags ...string) error
}

// Resolver is the root resolver: the dependencies every field uses.
type Resolver struct {
	Store  *store.Store
	Issuer *auth.Issuer
	// Cache is nil when there is no response cache.
	Cache Invalidator
	Now   func() time.Time
}

// Page size bounds: large pages are what complexity limits are for, but a
// hard cap keeps one request's memory small whatever the limits say.
const (
	defaultPage = 20
	maxPage     = 100
	maxTriggers = 500
)

// NewSchema returns the executable schema with the @auth directive and
// complexity estimates that scale with the requested page sizes.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	c := generated.Config{Resolvers: r}
	c.Directives.Auth = authDirective
	c.Complexity.Query.ThreatActors = func(child int, _ *model.ThreatActorFilter, first *int, _ *string) int {
		return 1 + child*clamp(first, defaultPage, maxPage)
	}
	c.Complexity.Query.HoneypotTriggers = func(child int, _ *model.HoneypotTriggerFilter, limit *int) int {
		return 1 + child*clamp(limit, 50, maxTriggers)
	}
	c.Complexity.HoneypotStats.MostActive = func(child int, limit *int) int {
		return 1 + child*clamp(limit, 5, maxPage)
	}
	return generated.NewExecutableSchema(c)
}

// authDirective enforces @auth(requires: ROLE).
func authDirective(ctx context.Context, _ any, next graphql.Resolver, requires model.Role) (any, error) {
	id := auth.FromContext(ctx)
	if id.Role == auth.RoleAnonymous {
		return nil, errUnauthenticated()
	}
	if !auth.Allows(id.Role, string(requires)) {
		return nil, errForbidden(string(requires))
	}
	return next(ctx)
}

// invalidate drops cached answers after a write. A failure is remembered by
// the cache and retried before it is read again.
func (r *Resolver) invalidate(ctx context.Context, tag string) {
	if r.Cache != nil {
		_ = r.Cache.Invalidate(ctx, tag)
	}
}

func clamp(p *int, def, hi int) int {
	if p == nil {
		return def
	}
	return max(0, min(*p, hi))
}

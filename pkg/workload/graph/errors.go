package graph

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/neko-defense/nekoctl/pkg/workload/breaker"
	"github.com/neko-defense/nekoctl/pkg/workload/store"
)

// Error codes in extensions.code; clients branch on these, not on messages.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadInput        = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeConflict        = "CONFLICT"
	CodeUnavailable     = "SERVICE_UNAVAILABLE"
	CodeInternal        = "INTERNAL_SERVER_ERROR"
)

func coded(code, msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
}

func errUnauthenticated() error {
	return coded(CodeUnauthenticated, "authentication required: send a token from the login mutation as 'Authorization: Bearer <token>'")
}

func errForbidden(role string) error {
	return coded(CodeForbidden, "forbidden: this operation needs the "+role+" role")
}

func errBadInput(msg string) error { return coded(CodeBadInput, msg) }

// ErrorPresenter turns resolver errors into coded GraphQL errors. Store and
// driver details stay in the server; clients get a stable message.
func ErrorPresenter(onError func(code string)) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := present(ctx, err)
		code, _ := gerr.Extensions["code"].(string)
		if code == "" {
			code = "GRAPHQL_VALIDATION_FAILED"
		}
		onError(code)
		return gerr
	}
}

func present(ctx context.Context, err error) *gqlerror.Error {
	var unavailable *breaker.UnavailableError
	var gerr *gqlerror.Error
	switch {
	case errors.As(err, &unavailable):
		return withPath(ctx, coded(CodeUnavailable, "the database is unavailable; the request failed fast and can be retried shortly"))
	case errors.Is(err, store.ErrNotFound):
		return withPath(ctx, coded(CodeNotFound, "not found"))
	case errors.Is(err, store.ErrDuplicate):
		return withPath(ctx, coded(CodeConflict, "a threat actor with this name already exists"))
	case errors.As(err, &gerr):
		return graphql.DefaultErrorPresenter(ctx, gerr)
	case store.IsFailure(err):
		return withPath(ctx, coded(CodeUnavailable, "the database did not answer in time; retry shortly"))
	default:
		return withPath(ctx, coded(CodeInternal, "internal error"))
	}
}

func withPath(ctx context.Context, e *gqlerror.Error) *gqlerror.Error {
	e.Path = graphql.GetPath(ctx)
	return e
}

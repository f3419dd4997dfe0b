package graph

import (
	"context"
	"errors"
	"strings"

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
	CodeBadRequest      = "BAD_REQUEST"
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
// driver details stay in the server (onError gets them, to count and log);
// clients get a stable message.
func ErrorPresenter(onError func(code string, err error)) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := present(ctx, err)
		code, _ := gerr.Extensions["code"].(string)
		if code == "" {
			code = "GRAPHQL_VALIDATION_FAILED"
		}
		onError(code, err)
		return gerr
	}
}

func present(ctx context.Context, err error) *gqlerror.Error {
	if g, ok := err.(*gqlerror.Error); ok && strings.HasPrefix(g.Message, undecodableBody) {
		return undecodable(g.Message)
	}
	// gqlgen wraps what a resolver returns in a *gqlerror.Error carrying
	// the path and location; the cause is what decides the answer.
	var outer *gqlerror.Error
	errors.As(err, &outer)
	cause := err
	for {
		g, ok := cause.(*gqlerror.Error)
		if !ok || g.Err == nil {
			break
		}
		cause = g.Err
	}
	var unavailable *breaker.UnavailableError
	switch {
	case errors.As(cause, &unavailable):
		return at(ctx, outer, coded(CodeUnavailable, "the database is unavailable; the request failed fast and can be retried shortly"))
	case errors.Is(cause, store.ErrNotFound):
		return at(ctx, outer, coded(CodeNotFound, "not found"))
	case errors.Is(cause, store.ErrDuplicate):
		return at(ctx, outer, coded(CodeConflict, "a threat actor with this name already exists"))
	}
	if inner, ok := cause.(*gqlerror.Error); ok {
		// A deliberate GraphQL error: ours (coded), or a parse, validation or
		// limit error from the executor.
		if outer != nil && outer != inner {
			return at(ctx, outer, inner)
		}
		return inner
	}
	// Anything else comes from below (driver, network): never shown as is.
	if store.IsFailure(cause) {
		return at(ctx, outer, coded(CodeUnavailable, "the database did not answer in time; retry shortly"))
	}
	return at(ctx, outer, coded(CodeInternal, "internal error"))
}

// undecodableBody starts the error of gqlgen's POST transport for a body
// that is not a GraphQL request object. That error quotes the whole body,
// which may hold a password (login's variables): it is replaced.
const undecodableBody = "json request body could not be decoded: "

func undecodable(msg string) *gqlerror.Error {
	cause, _, _ := strings.Cut(strings.TrimPrefix(msg, undecodableBody), " body:")
	if strings.Contains(cause, "cannot unmarshal array") {
		return coded(CodeBadRequest, "the request body is a JSON array: batched requests are not supported; send one JSON object {\"query\", \"operationName\", \"variables\"} per request")
	}
	// The decoder's own words name a type or a position, never the content.
	return coded(CodeBadRequest, "the request body is not a GraphQL request (a JSON object with \"query\", \"operationName\" and \"variables\"): "+cause)
}

// at places e where the error occurred: the wrapper's path and location.
func at(ctx context.Context, outer, e *gqlerror.Error) *gqlerror.Error {
	out := &gqlerror.Error{Message: e.Message, Extensions: e.Extensions, Path: graphql.GetPath(ctx)}
	if outer != nil {
		if outer.Path != nil {
			out.Path = outer.Path
		}
		out.Locations = outer.Locations
	}
	return out
}

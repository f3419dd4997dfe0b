package graph

import (
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
)

// Limits bound the work one request can cause before any resolver runs.
type Limits struct {
	MaxDepth      int
	MaxComplexity int
}

// Bounds that do not depend on the configuration. A query of this API has
// a few dozen tokens and repeats a field at one place a handful of times
// (an id in two fragments); inputs too long for the token limit belong in
// variables.
const (
	maxTokens     = 20_000
	maxMergePairs = 1_000
)

// limitable is what both gqlgen's handler.Server and executor.Executor offer.
type limitable interface {
	Use(graphql.HandlerExtension)
	SetParserTokenLimit(int)
	SetQueryCache(graphql.Cache[*ast.QueryDocument])
}

// Install sets the limits on h, in order: the parser's token limit and
// QueryCost before parsing and validation, then depth and complexity on the
// validated operation (whose expansion QueryCost has bounded). validated is
// h's query cache: QueryCost does not measure again what passed before.
func (l Limits) Install(h limitable, validated graphql.Cache[*ast.QueryDocument]) {
	h.SetParserTokenLimit(maxTokens)
	h.SetQueryCache(validated)
	h.Use(QueryCost{MaxSelections: l.MaxComplexity, MaxMergePairs: maxMergePairs, MaxTokens: maxTokens, Validated: validated})
	h.Use(DepthLimit{Max: l.MaxDepth})
	h.Use(extension.FixedComplexityLimit(l.MaxComplexity))
}

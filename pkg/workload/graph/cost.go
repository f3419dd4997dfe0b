package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// CodeComplexity is the code of an operation refused for its size.
const CodeComplexity = "COMPLEXITY_LIMIT_EXCEEDED"

// QueryCost refuses documents whose work would be out of proportion to
// their size, before gqlgen validates them. Both validation and gqlgen's
// complexity count expand fragments, so fragments that each spread the
// next twice (a few hundred bytes for 2^30 fields) would pin a core for
// minutes before any limit applied; and validation compares every two
// fields that merge at one place (OverlappingFieldsCanBeMerged), which is
// quadratic in how often a field is repeated. QueryCost counts without
// expanding, each fragment once, and stops as soon as a limit is passed; it
// runs on the raw query, before gqlgen parses and validates it.
type QueryCost struct {
	// MaxSelections bounds the selections (fields, fragment spreads and
	// inline fragments) of the document's operations once fragments are
	// expanded, and of each fragment. Every field costs at least one unit
	// of complexity, so the complexity limit is the natural value: nothing
	// larger could pass it.
	MaxSelections int
	// MaxMergePairs bounds the pairs of fields validation compares: fields
	// with one response name at one place.
	MaxMergePairs int
	// MaxTokens bounds the lexical tokens parsed (also set on gqlgen's
	// parser by Install).
	MaxTokens int
	// Validated holds documents that passed before (gqlgen's query cache):
	// they are not measured again.
	Validated graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = QueryCost{}

// ExtensionName implements graphql.HandlerExtension.
func (QueryCost) ExtensionName() string { return "QueryCost" }

// Validate implements graphql.HandlerExtension.
func (QueryCost) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (c QueryCost) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if c.Validated != nil {
		if _, ok := c.Validated.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, c.MaxTokens)
	if err != nil {
		return nil // gqlgen parses it again and reports the error its own way
	}
	return c.Check(ctx, doc)
}

// Check measures a parsed (not yet validated) document.
func (c QueryCost) Check(ctx context.Context, doc *ast.QueryDocument) *gqlerror.Error {
	m := newMeter(ctx, doc, c.MaxSelections)
	m.cancelled = ctx.Err() != nil
	total := 0
	for _, op := range doc.Operations {
		total += m.size(op.SelectionSet)
		if total > c.MaxSelections {
			return m.refuse(fmt.Sprintf("the document selects more than %d fields once its fragments are expanded (the complexity limit)", c.MaxSelections))
		}
	}
	for _, f := range doc.Fragments {
		if _, used := m.sizes[f.Name]; !used {
			// Validation would refuse it, after comparing its fields as
			// if it were used; those comparisons are not measured here.
			return withCode(&gqlerror.Error{Message: fmt.Sprintf("Fragment %q is never used.", f.Name)}, errcode.ValidationFailed)
		}
	}
	// Every expansion is now known to be small: walk it.
	pairs := mergePairs{budget: c.MaxMergePairs, meter: m, counts: map[mergeKey]int{}, places: map[mergeKey]int{},
		spread: map[mergeKey]bool{}, expanding: map[string]bool{}}
	for _, op := range doc.Operations {
		pairs.last++ // operations are validated apart
		if name, over := pairs.walk(op.SelectionSet, pairs.last); over {
			return m.refuse(fmt.Sprintf("the document selects %q too often at one place: validation would compare more than %d pairs of fields", name, c.MaxMergePairs))
		}
	}
	return m.refuse("")
}

// meter measures expansions, each fragment once.
type meter struct {
	ctx       context.Context
	limit     int
	fragments map[string]*ast.FragmentDefinition
	// sizes memoizes fragment sizes; a fragment without one is not used
	// by any operation.
	sizes     map[string]int
	visiting  map[string]bool
	steps     int
	cancelled bool
}

func newMeter(ctx context.Context, doc *ast.QueryDocument, limit int) *meter {
	m := &meter{
		ctx: ctx, limit: limit, fragments: map[string]*ast.FragmentDefinition{},
		sizes: map[string]int{}, visiting: map[string]bool{},
	}
	for _, f := range doc.Fragments {
		if _, dup := m.fragments[f.Name]; !dup {
			m.fragments[f.Name] = f
		}
	}
	return m
}

// tick notes a step of work and reports whether the request is gone: the
// walks are bounded, but a cancelled request needs none of them.
func (m *meter) tick() bool {
	m.steps++
	if m.steps%1024 == 0 && m.ctx.Err() != nil {
		m.cancelled = true
	}
	return m.cancelled
}

// refuse returns the error for msg ("" for none), or the request's own
// error once it has been cancelled.
func (m *meter) refuse(msg string) *gqlerror.Error {
	if m.cancelled {
		return withCode(&gqlerror.Error{Message: "request cancelled: " + m.ctx.Err().Error()}, CodeComplexity)
	}
	if msg == "" {
		return nil
	}
	return withCode(&gqlerror.Error{Message: msg}, CodeComplexity)
}

// size is the number of selections in set with fragments expanded, or
// limit+1 as soon as it is known to exceed limit.
func (m *meter) size(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		if m.tick() {
			return m.limit + 1
		}
		n++
		switch s := sel.(type) {
		case *ast.Field:
			n += m.size(s.SelectionSet)
		case *ast.InlineFragment:
			n += m.size(s.SelectionSet)
		case *ast.FragmentSpread:
			n += m.fragmentSize(s.Name)
		}
		if n > m.limit {
			return m.limit + 1
		}
	}
	return n
}

func (m *meter) fragmentSize(name string) int {
	if n, ok := m.sizes[name]; ok {
		return n
	}
	f := m.fragments[name]
	if f == nil || m.visiting[name] {
		return 0 // unknown or cyclic: validation refuses the document
	}
	if m.cancelled {
		return m.limit + 1
	}
	m.visiting[name] = true
	n := m.size(f.SelectionSet)
	delete(m.visiting, name)
	m.sizes[name] = n
	return n
}

// mergePairs counts, in an expansion already known to be small, the fields
// that merge at each place: a place is a response name under a parent place.
type mergePairs struct {
	budget int
	meter  *meter
	// counts is the number of fields at each place so far.
	counts map[mergeKey]int
	// places numbers the places of fields with children: (parent, name).
	places map[mergeKey]int
	last   int
	pairs  int
	// spread records the fragments spread at each place (parent, name).
	spread map[mergeKey]bool
	// expanding guards against fragment cycles.
	expanding map[string]bool
}

type mergeKey struct {
	parent int
	name   string
}

// walk counts the fields of set under parent; over is set, with the
// response name, once the budget is passed.
func (p *mergePairs) walk(set ast.SelectionSet, parent int) (name string, over bool) {
	for _, sel := range set {
		if p.meter.tick() {
			return "", false
		}
		switch s := sel.(type) {
		case *ast.Field:
			name := s.Alias
			if name == "" {
				name = s.Name
			}
			key := mergeKey{parent, name}
			p.pairs += p.counts[key] // the new field is compared with each one before it
			p.counts[key]++
			if p.pairs > p.budget {
				return name, true
			}
			if len(s.SelectionSet) > 0 {
				// Fields that merge share their children's places.
				place, ok := p.places[key]
				if !ok {
					p.last++
					place = p.last
					p.places[key] = place
				}
				if n, over := p.walk(s.SelectionSet, place); over {
					return n, over
				}
			}
		case *ast.InlineFragment:
			if n, over := p.walk(s.SelectionSet, parent); over {
				return n, over
			}
		case *ast.FragmentSpread:
			// Validation compares a fragment with another once, and never
			// with itself: a second spread at one place adds nothing.
			f, again := p.meter.fragments[s.Name], mergeKey{parent, s.Name}
			if f == nil || p.expanding[s.Name] || p.spread[again] {
				continue
			}
			p.spread[again] = true
			p.expanding[s.Name] = true
			n, over := p.walk(f.SelectionSet, parent)
			delete(p.expanding, s.Name)
			if over {
				return n, over
			}
		}
	}
	return "", false
}

func withCode(err *gqlerror.Error, code string) *gqlerror.Error {
	errcode.Set(err, code)
	return err
}

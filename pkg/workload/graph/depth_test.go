package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestDepthLimit(t *testing.T) {
	tests := []struct {
		name, query string
		max         int
		wantErr     bool
	}{
		{"flat", `{me{username}}`, 2, false},
		{"too deep", `{threatActors{edges{node{name}}}}`, 3, true},
		{"at the limit", `{threatActors{edges{node{name}}}}`, 4, false},
		{"through fragments", `{threatActors{...E}} fragment E on ThreatActorConnection{edges{node{name}}}`, 3, true},
		{"through inline fragments", `{threatActors{... on ThreatActorConnection{edges{node{name}}}}}`, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			// Resolve fragment spreads as validation would.
			for _, op := range doc.Operations {
				link(op.SelectionSet, doc)
			}
			op := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
			gerr := DepthLimit{Max: tt.max}.MutateOperationContext(context.Background(), op)
			if (gerr != nil) != tt.wantErr {
				t.Errorf("error = %v, want error %v", gerr, tt.wantErr)
			}
		})
	}
}

func link(set ast.SelectionSet, doc *ast.QueryDocument) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			link(s.SelectionSet, doc)
		case *ast.InlineFragment:
			link(s.SelectionSet, doc)
		case *ast.FragmentSpread:
			s.Definition = doc.Fragments.ForName(s.Name)
			link(s.Definition.SelectionSet, doc)
		}
	}
}

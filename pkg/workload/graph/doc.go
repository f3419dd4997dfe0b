// Package graph implements the Neko Defense GraphQL API: the schema in
// schema.graphqls, gqlgen's generated executor in generated/, and the
// resolvers over the store.
package graph

//go:generate go run github.com/99designs/gqlgen@v0.17.98 generate --config gqlgen.yml

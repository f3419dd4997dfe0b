package graph

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// fanOut is n fragments that each spread the next twice: 2^n fields in a
// document of about 43 bytes per fragment.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("query{threatActors(first:1){edges{node{...F0}}}}")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on ThreatActor{...F%d ...F%d}", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on ThreatActor{id name}", n)
	return b.String()
}

// costShapes are documents whose naive processing is exponential or
// quadratic in their size, each with the code it must be refused with.
var costShapes = []struct {
	name, query, code string
}{
	{"fragment fan-out", fanOut(30), CodeComplexity},
	{"fragment fan-out of aliases", strings.ReplaceAll(fanOut(24), "{id name}", "{x:id y:name}"), CodeComplexity},
	{"one field repeated", "{me{" + strings.Repeat("username ", 4000) + "}}", CodeComplexity},
	{"one alias repeated", "{me{" + strings.Repeat("a:username ", 4000) + "}}", CodeComplexity},
	{"a root field repeated", "{" + strings.Repeat("me{username} ", 300) + "}", CodeComplexity},
	{"inline fragments repeated", "{me{" + strings.Repeat("...on Viewer{username} ", 300) + "}}", CodeComplexity},
	{"one fragment spread often", "{me{" + strings.Repeat("...V ", 4000) + "}} fragment V on Viewer{username}", CodeComplexity},
	{"distinct fragments of one field", manyFragments(200), CodeComplexity},
	{"nested repetition", "{" + strings.Repeat("threatActors{edges{node{id id id id} node{id id id id}} edges{node{id}}} ", 12) + "}", CodeComplexity},
	{"an unused fragment", "{me{username}} fragment U on Viewer{...U2 ...U2} fragment U2 on Viewer{username}", "GRAPHQL_VALIDATION_FAILED"},
}

func manyFragments(n int) string {
	var b strings.Builder
	b.WriteString("{me{")
	for i := range n {
		fmt.Fprintf(&b, "...V%d ", i)
	}
	b.WriteString("}}")
	for i := range n {
		fmt.Fprintf(&b, " fragment V%d on Viewer{username}", i)
	}
	return b.String()
}

// newLimitedExecutor is the server's GraphQL pipeline up to execution:
// parsing, QueryCost, validation, depth and complexity.
func newLimitedExecutor() *executor.Executor {
	exec := executor.New(NewSchema(&Resolver{}))
	Limits{MaxDepth: 10, MaxComplexity: 1000}.Install(exec, lru.New[*ast.QueryDocument](100))
	return exec
}

func TestQueryCostRefusesExpensiveShapes(t *testing.T) {
	exec := newLimitedExecutor()
	for _, tt := range costShapes {
		t.Run(tt.name, func(t *testing.T) {
			errs := prepare(t, exec, tt.query)
			if code := firstCode(errs); code != tt.code {
				t.Errorf("code = %q, want %q (errors: %v)", code, tt.code, errs)
			}
		})
	}
}

func TestQueryCostAcceptsOrdinaryQueries(t *testing.T) {
	exec := newLimitedExecutor()
	for name, query := range map[string]string{
		"plain":       `{me{username role} threatCountsByCategory{category count}}`,
		"page":        `{threatActors(first:20){edges{cursor node{id name category threatLevel techniques}} pageInfo{hasNextPage endCursor}}}`,
		"fragments":   `query{threatActors{edges{node{...A ...B}}}} fragment A on ThreatActor{id name} fragment B on ThreatActor{id threatLevel __typename}`,
		"fan-out 6":   fanOut(6),
		"stats":       `{honeypotStats{totalTriggers uniqueIPs perTrap{trapName count} mostActive(limit:3){ip count}}}`,
		"two queries": `query A{me{username}} query B{me{username}}`,
	} {
		t.Run(name, func(t *testing.T) {
			op := "A"
			if name != "two queries" {
				op = ""
			}
			if errs := prepareOp(t, exec, query, op); errs != nil {
				t.Errorf("refused: %v", errs)
			}
		})
	}
}

// TestQueryCostCancelled: a request that is gone stops being measured.
func TestQueryCostCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	doc := parse(t, fanOut(9))
	err := QueryCost{MaxSelections: 1 << 20, MaxMergePairs: 1 << 20, MaxTokens: maxTokens}.Check(ctx, doc)
	if err == nil || !strings.Contains(err.Message, "cancelled") {
		t.Errorf("error = %v, want the request's cancellation", err)
	}
}

// FuzzQueryCost checks that no document, whatever its shape, costs the
// server more than a bounded time and memory before execution, where the
// complexity limit bounds the rest. The seed corpus holds the shapes that
// were exponential or quadratic: fragment fan-out and repeated fields.
func FuzzQueryCost(f *testing.F) {
	for _, s := range costShapes {
		f.Add(s.query)
	}
	f.Add(fanOut(6))
	f.Add(`{threatActors(first:20){edges{cursor node{id name}} pageInfo{hasNextPage endCursor}}}`)
	f.Add(`query{threatActors{edges{node{...A}}}} fragment A on ThreatActor{...A id}`)
	f.Add(`{me{...on Viewer{...on Viewer{...on Viewer{username}}}}}`)
	exec := newLimitedExecutor()
	// Generous bounds: the refused shapes above used to take seconds to
	// minutes and gigabytes; ordinary queries take well under a millisecond.
	const (
		maxTime  = 2 * time.Second
		maxAlloc = 64 << 20
	)
	f.Fuzz(func(t *testing.T, query string) {
		if len(query) > 1<<20 { // the body limit
			return
		}
		// The figures are the whole process's: on a busy machine, one
		// measurement over a bound is confirmed by a second before failing.
		took, alloc := measure(exec, query)
		if took > maxTime || alloc > maxAlloc {
			took, alloc = measure(exec, query)
		}
		if took > maxTime {
			t.Errorf("preparing a %d-byte document took %s, more than %s", len(query), took, maxTime)
		}
		if alloc > maxAlloc {
			t.Errorf("preparing a %d-byte document allocated %d bytes, more than %d", len(query), alloc, maxAlloc)
		}
	})
}

// measure prepares query for execution; it returns the time taken and the
// bytes allocated.
func measure(exec *executor.Executor, query string) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, _ = exec.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: query})
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	return took, after.TotalAlloc - before.TotalAlloc
}

func prepare(t *testing.T, exec *executor.Executor, query string) gqlerror.List {
	return prepareOp(t, exec, query, "")
}

func prepareOp(t *testing.T, exec *executor.Executor, query, op string) gqlerror.List {
	t.Helper()
	done := make(chan gqlerror.List, 1)
	go func() {
		_, errs := exec.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: query, OperationName: op})
		done <- errs
	}()
	select {
	case errs := <-done:
		return errs
	case <-time.After(20 * time.Second): // a hang, not a speed target
		t.Fatalf("preparing the document did not end within 20s")
		return nil
	}
}

func firstCode(errs gqlerror.List) string {
	if len(errs) == 0 {
		return ""
	}
	code, _ := errs[0].Extensions["code"].(string)
	return code
}

func parse(t *testing.T, query string) *ast.QueryDocument {
	t.Helper()
	doc, err := parserParse(query)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func parserParse(q string) (*ast.QueryDocument, error) {
	return parser.ParseQuery(&ast.Source{Input: q})
}

// BenchmarkPrepare measures the work before execution: the fan-out and the
// repeated field are refused, the page query goes through.
func BenchmarkPrepare(b *testing.B) {
	for name, query := range map[string]string{
		"fan-out 30":    fanOut(30),
		"field x4000":   costShapes[2].query,
		"ordinary page": `{threatActors(first:20){edges{cursor node{id name category}} pageInfo{hasNextPage endCursor}}}`,
	} {
		b.Run(name, func(b *testing.B) {
			exec := newLimitedExecutor()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = exec.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: query})
			}
		})
	}
}

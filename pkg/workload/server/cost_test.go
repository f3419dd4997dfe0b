package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/workload/testenv"
)

// fanOut is the query that pinned a core for minutes: 30 fragments that
// each spread the next twice, 2^30 fields in 1.3 KB.
func fanOut(n int) string {
	var b strings.Builder
	b.WriteString("query{threatActors{edges{node{...F0}}}}")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on ThreatActor{...F%d ...F%d}", i, i+1, i+1)
	}
	fmt.Fprintf(&b, " fragment F%d on ThreatActor{id name}", n)
	return b.String()
}

// TestFragmentFanOutRefused: the fan-out is refused before validation and
// execution, with or without a token, and the server is none the worse.
func TestFragmentFanOutRefused(t *testing.T) {
	m, r := services(t, 10)
	in := startServer(t, m.URI, r.Addr, nil)
	anonymous := newClient(t, in.URL)
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	for name, c := range map[string]*client{"anonymous": anonymous, "viewer": viewer} {
		t.Run(name, func(t *testing.T) {
			// The client's 10 s timeout tells a hang from an answer; before
			// the query was measured without expanding it, it never answered.
			got, err := c.try(fanOut(30), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
				t.Errorf("code = %q, want COMPLEXITY_LIMIT_EXCEEDED: %+v", got.code(), got.Errors)
			}
		})
	}
	if got := viewer.do(`{me{username}}`, nil); len(got.Errors) > 0 {
		t.Errorf("after the fan-out: %+v", got.Errors)
	}
}

// TestShutdownCancelsWorkInFlight: a request still running when the
// shutdown timeout ends (here: MongoDB stopped answering, with a long
// operation timeout) has its work cancelled; it gets an answer and the
// shutdown ends cleanly instead of leaving it running.
func TestShutdownCancelsWorkInFlight(t *testing.T) {
	m, _ := services(t, 10)
	proxy := testenv.StartProxy(t, strings.TrimSuffix(strings.TrimPrefix(m.URI, "mongodb://"), "/"))
	in := startServer(t, "mongodb://"+proxy.Addr+"/", "", map[string]string{
		"SHUTDOWN_DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "300ms", "MONGODB_TIMEOUT": "20s", "GRAPHQL_REQUEST_TIMEOUT": "20s",
	})
	viewer := login(t, in.URL, "viewer", testenv.ViewerPassword)
	proxy.Stall()
	type answer struct {
		resp *gqlResponse
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := viewer.try(`{threatCountsByCategory{category count}}`, nil)
		answered <- answer{resp, err}
	}()
	time.Sleep(300 * time.Millisecond) // the request reaches the database
	start := time.Now()
	in.stop()
	select {
	case err := <-in.done:
		in.done <- nil
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not end within 10s")
	}
	t.Logf("shutdown took %s", time.Since(start))
	a := <-answered
	if a.err != nil {
		t.Fatalf("the request in flight got no answer: %v", a.err)
	}
	if a.resp.code() != "SERVICE_UNAVAILABLE" {
		t.Errorf("answer: status %d, errors %+v; want SERVICE_UNAVAILABLE", a.resp.Status, a.resp.Errors)
	}
}

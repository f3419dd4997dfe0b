package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// clock is a settable clock shared by the test and the drawing goroutine.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is written by mpb's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitFor polls the output until it holds want (the view redraws on its own).
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the view never showed %q:\n%s", want, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	cluster = plan.Address{Provider: "atlas", Scope: "project/neko", Kind: "cluster", Name: "neko-global"}
	pool    = plan.Address{Provider: "cloudflare", Scope: "account/a", Kind: "pool", Name: "us-east"}
	lb      = plan.Address{Provider: "cloudflare", Scope: "zone/z", Kind: "load_balancer", Name: "api"}
)

var threeChanges = &plan.Plan{Changes: []plan.Change{
	{Address: cluster, Action: plan.Create}, {Address: pool, Action: plan.Update},
	{Address: plan.Address{Provider: "cloudflare", Kind: "dns_record", Name: "www"}, Action: plan.NoOp},
	{Address: lb, Action: plan.Create},
}}

func TestViewShowsChangesInFlightAndCounts(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	out := &syncBuffer{}
	v := NewView(out, Options{Now: clk.Now, Refresh: 5 * time.Millisecond, Width: 120})

	v.Event(event.Event{Type: event.Progress, Message: "before the apply"})
	if got := out.String(); got != "run: before the apply\n" {
		t.Fatalf("before Begin the view prints plain lines, got %q", got)
	}

	v.Begin(threeChanges)
	v.Event(event.Event{Time: clk.Now(), Type: event.Started, Address: cluster, Action: plan.Create})
	v.Event(event.Event{Time: clk.Now(), Type: event.Started, Address: pool, Action: plan.Update})
	clk.Add(12 * time.Second)
	v.Event(event.Event{Time: clk.Now(), Type: event.Progress, Address: cluster, Action: plan.Create, Message: "CREATING", Elapsed: 12 * time.Second})
	waitFor(t, out, `12s creating atlas[project/neko].cluster["neko-global"]: CREATING`)
	waitFor(t, out, `12s updating cloudflare[account/a].pool["us-east"]`)
	waitFor(t, out, "0/3 done, 2 in flight  12s")
	if !strings.ContainsAny(out.String(), "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏") {
		t.Fatalf("no spinner frame:\n%s", out)
	}

	clk.Add(3 * time.Second)
	v.Event(event.Event{Time: clk.Now(), Type: event.Succeeded, Address: pool, Action: plan.Update, Elapsed: 15 * time.Second})
	v.Event(event.Event{Time: clk.Now(), Type: event.Skipped, Address: lb, Action: plan.Create, Message: "depends on x"})
	waitFor(t, out, `cloudflare[account/a].pool["us-east"]: updated [15s]`)
	waitFor(t, out, `cloudflare[zone/z].load_balancer["api"]: skipped: depends on x`)
	waitFor(t, out, "2/3 done, 1 in flight  15s")

	clk.Add(time.Minute)
	v.End()
	final := out.String()
	if !strings.HasSuffix(final, "2/3 done  1m15s\n") {
		t.Fatalf("the view did not end on the counter line with the run's time:\n%s", final)
	}
	v.End() // a second End is harmless

	v.Event(event.Event{Type: event.Succeeded, Address: cluster, Action: plan.Create})
	if got := strings.TrimPrefix(out.String(), final); got != `atlas[project/neko].cluster["neko-global"]: created`+"\n" {
		t.Fatalf("after End the view prints plain lines, got %q", got)
	}
}

func TestViewCountsFailuresAndInterruptions(t *testing.T) {
	clk := &clock{t: time.Unix(0, 0)}
	out := &syncBuffer{}
	v := NewView(out, Options{Now: clk.Now, Refresh: 5 * time.Millisecond, Width: 120})
	v.Begin(threeChanges)
	v.Event(event.Event{Time: clk.Now(), Type: event.Started, Address: pool, Action: plan.Create})
	v.Event(event.Event{Time: clk.Now(), Type: event.Failed, Address: pool, Action: plan.Create, Err: "boom"})
	v.Event(event.Event{Time: clk.Now(), Type: event.Interrupted, Address: lb, Action: plan.Create, Message: "not started: the run was interrupted"})
	v.Event(event.Event{Time: clk.Now(), Type: event.Started, Address: cluster, Action: plan.Create})
	// Interrupted while a change is in flight: End still ends the view.
	v.End()
	got := out.String()
	for _, want := range []string{
		`cloudflare[account/a].pool["us-east"]: failed: boom`,
		`cloudflare[zone/z].load_balancer["api"]: interrupted: not started: the run was interrupted`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q:\n%s", want, got)
		}
	}
	if !strings.HasSuffix(got, "2/3 done, 1 failed, 1 interrupted  0s\n") {
		t.Errorf("final counter line wrong:\n%s", got)
	}
}

func TestElapsed(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1400 * time.Millisecond: "1s", 59 * time.Second: "59s", 125 * time.Second: "2m05s",
		time.Hour + 2*time.Minute + 40*time.Second: "1h02m",
	} {
		if got := elapsed(d); got != want {
			t.Errorf("elapsed(%s) = %q, want %q", d, got, want)
		}
	}
}

package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// TestLinesAreTimestamped: every event is one plain line, worded as the
// plain printer words it, after the time of day the event happened; an
// event without a time takes the clock's.
func TestLinesAreTimestamped(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	start := time.Date(2026, 3, 1, 23, 59, 58, 400_000_000, zone)
	clk := &clock{t: start.Add(5 * time.Second)}
	var out bytes.Buffer
	r := Lines(&out, Options{Now: clk.Now})
	r.Begin(threeChanges)
	r.Event(event.Event{Time: start, Type: event.Started, Address: cluster, Action: plan.Create})
	r.Event(event.Event{Time: start.Add(time.Second), Type: event.Progress, Address: cluster, Message: "CREATING", Elapsed: time.Second})
	r.Event(event.Event{Time: start.Add(2 * time.Second), Type: event.Succeeded, Address: cluster, Action: plan.Create, Elapsed: 2 * time.Second})
	r.Event(event.Event{Type: event.Failed, Address: pool, Action: plan.Update, Err: "boom"})
	r.End()
	want := strings.Join([]string{
		`23:59:58 atlas[project/neko].cluster["neko-global"]: creating...`,
		`23:59:59 atlas[project/neko].cluster["neko-global"]: CREATING [1s]`,
		`00:00:00 atlas[project/neko].cluster["neko-global"]: created [2s]`,
		`00:00:03 cloudflare[account/a].pool["us-east"]: failed: boom`,
	}, "\n") + "\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("plain lines (-want +got):\n%s", diff)
	}
}

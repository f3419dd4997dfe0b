// Package progress prints what an apply is doing while it runs. On a
// terminal it is a live view (one spinner line per change in flight, the
// finished changes scrolled above, a done/total counter); elsewhere the
// same events are plain lines or JSON. It consumes pkg/event events and
// never decides anything about the run.
//
// Which one a run gets is decided once, by cmdutil's Factory.Reporter.
package progress

import (
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// Reporter receives a run's events. Begin and End bracket the apply: a live
// view draws only in between, so that the plan and the confirmation prompt
// before it, and the checks and summary after it, are ordinary lines.
type Reporter interface {
	Event(event.Event)
	// Begin says the apply of p starts.
	Begin(p *plan.Plan)
	// End stops drawing and leaves the terminal as it was, with the final
	// counter line; it is safe to call more than once, and without Begin.
	End()
}

// Plain reports every event to a sink as it comes (the JSON stream).
func Plain(sink event.Sink) Reporter { return plain(sink) }

type plain event.Sink

func (p plain) Event(e event.Event) { p(e) }
func (plain) Begin(*plan.Plan)      {}
func (plain) End()                  {}

// changes is the number of changes an apply of p makes (no-ops aside).
func changes(p *plan.Plan) int {
	n := 0
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			n++
		}
	}
	return n
}

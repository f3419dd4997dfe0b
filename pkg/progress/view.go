package progress

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// Options tune the live view.
type Options struct {
	// Now is the clock elapsed times are measured with.
	Now func() time.Time
	// Color paints the finished lines as the plain printer does.
	Color bool
	// Refresh is how often the view is redrawn (default 150ms).
	Refresh time.Duration
	// Width is the view's width; 0 means the terminal's.
	Width int
}

// View is the live terminal view of one apply, drawn by mpb: a spinner
// line per change in flight with its elapsed time and latest progress
// message (an Atlas cluster's state, a rollout's), the finished changes
// printed above as the plain printer would print them, and a last line
// counting done/total with the run's elapsed time. Outside Begin..End it
// prints plain lines.
type View struct {
	w     io.Writer
	o     Options
	plain event.Sink

	// mu serialises events and the calls into mpb they make. The drawing
	// goroutine never takes it (it reads state under smu), so holding mu
	// while mpb waits for a redraw cannot deadlock.
	mu      sync.Mutex
	p       *mpb.Progress
	counter *mpb.Bar
	flights map[plan.Address]*mpb.Bar

	smu   sync.Mutex
	state counts
	lines map[plan.Address]*flight
}

// counts are what the last line shows.
type counts struct {
	total, done, failed, interrupted int
	start, end                       time.Time
}

// flight is what a change in flight's line shows.
type flight struct {
	verb, what, message string
	start               time.Time
}

// NewView returns a view writing to w, a terminal.
func NewView(w io.Writer, o Options) *View {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Refresh <= 0 {
		o.Refresh = 150 * time.Millisecond
	}
	return &View{w: w, o: o, plain: printer.EventLines(w, o.Color)}
}

// Begin starts drawing.
func (v *View) Begin(p *plan.Plan) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.p != nil {
		return
	}
	v.smu.Lock()
	v.state = counts{total: changes(p), start: v.o.Now()}
	v.lines = map[plan.Address]*flight{}
	v.smu.Unlock()
	v.flights = map[plan.Address]*mpb.Bar{}
	v.p = mpb.New(mpb.WithOutput(v.w), mpb.WithWidth(v.o.Width), mpb.WithRefreshRate(v.o.Refresh), mpb.WithAutoRefresh())
	// The counter stays the last line whatever is added after it.
	v.counter = v.p.New(0, mpb.NopStyle(), mpb.BarPriority(math.MaxInt32), mpb.BarFillerTrim(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return v.counterLine() })))
}

// End stops drawing: lines still in flight are dropped (their outcome was
// or will be reported as a line), the counter line is drawn a last time with
// the run's final figures, and later events are plain lines again.
func (v *View) End() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.p == nil {
		return
	}
	v.smu.Lock()
	v.state.end = v.o.Now()
	clear(v.lines)
	v.smu.Unlock()
	for _, b := range v.flights {
		b.Abort(true)
	}
	v.counter.SetTotal(-1, true)
	v.p.Wait()
	v.p, v.counter, v.flights = nil, nil, nil
}

// Event is the view's event.Sink.
func (v *View) Event(e event.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.p == nil {
		v.plain(e)
		return
	}
	a := e.Address
	switch e.Type {
	case event.Started:
		v.start(e)
		return
	case event.Progress:
		if v.note(a, e.Message) {
			return
		}
	case event.Succeeded, event.Failed, event.Skipped, event.Interrupted:
		if b := v.flights[a]; b != nil {
			delete(v.flights, a)
			b.Abort(true)
		}
		v.finish(e)
	}
	_, _ = fmt.Fprintln(v.p, printer.EventLine(e, v.o.Color))
}

func (v *View) start(e event.Event) {
	if old := v.flights[e.Address]; old != nil {
		old.Abort(true)
	}
	start := e.Time
	if start.IsZero() {
		start = v.o.Now()
	}
	f := &flight{verb: printer.Verb(e.Action), what: e.Address.String(), start: start}
	v.smu.Lock()
	v.lines[e.Address] = f
	v.smu.Unlock()
	v.flights[e.Address] = v.p.New(0, mpb.SpinnerStyle().PositionLeft(), mpb.BarWidth(1),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return v.flightLine(f) })))
}

// note sets the message of a change in flight; false when none is.
func (v *View) note(a plan.Address, msg string) bool {
	if v.flights[a] == nil {
		return false
	}
	v.smu.Lock()
	defer v.smu.Unlock()
	v.lines[a].message = msg
	return true
}

func (v *View) finish(e event.Event) {
	v.smu.Lock()
	defer v.smu.Unlock()
	delete(v.lines, e.Address)
	v.state.done++
	switch e.Type {
	case event.Failed:
		v.state.failed++
	case event.Interrupted:
		v.state.interrupted++
	}
}

// flightLine is drawn after the spinner: `12s creating ADDRESS: MESSAGE`.
func (v *View) flightLine(f *flight) string {
	v.smu.Lock()
	defer v.smu.Unlock()
	s := fmt.Sprintf("%6s %s %s", elapsed(v.o.Now().Sub(f.start)), f.verb, f.what)
	if f.message != "" {
		s += ": " + f.message
	}
	return s
}

// counterLine is the last line: `12/40 done, 3 in flight, 1 failed  1m05s`.
func (v *View) counterLine() string {
	v.smu.Lock()
	defer v.smu.Unlock()
	c := v.state
	s := fmt.Sprintf("%d/%d done", c.done, c.total)
	if n := len(v.lines); n > 0 {
		s += fmt.Sprintf(", %d in flight", n)
	}
	if c.failed > 0 {
		s += fmt.Sprintf(", %d failed", c.failed)
	}
	if c.interrupted > 0 {
		s += fmt.Sprintf(", %d interrupted", c.interrupted)
	}
	end := c.end
	if end.IsZero() {
		end = v.o.Now()
	}
	return s + "  " + elapsed(end.Sub(c.start))
}

// elapsed is a duration to the second, as people read it: 45s, 2m03s, 1h02m.
func elapsed(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	}
	return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

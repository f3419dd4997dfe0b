package progress

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
)

// TimeFormat is how a plain line's time is written: the time of day in the
// clock's zone (the local one; TZ=UTC gives UTC). A log read after the
// fact, such as a CI job's, then shows when each change started and ended
// and where a run spent its time; the date is the job's own.
const TimeFormat = time.TimeOnly

// Lines reports every event as a plain line, as the plain printer words it,
// prefixed with the time the event happened: what `up` and `down` print
// when no live view is drawn (no terminal, TERM=dumb, --no-progress).
func Lines(w io.Writer, o Options) Reporter {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &lines{w: w, o: o}
}

type lines struct {
	mu sync.Mutex
	w  io.Writer
	o  Options
}

func (l *lines) Event(e event.Event) {
	at := e.Time
	if at.IsZero() {
		at = l.o.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// A broken pipe cannot be reported anywhere better than the run's error.
	_, _ = fmt.Fprintf(l.w, "%s %s\n", at.Format(TimeFormat), printer.EventLine(e, l.o.Color))
}

func (*lines) Begin(*plan.Plan) {}
func (*lines) End()             {}

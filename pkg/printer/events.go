package printer

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
)

// EventLines prints one plain line per event, for terminals and CI logs.
func EventLines(w io.Writer, color bool) event.Sink {
	var mu sync.Mutex
	t := &textWriter{w: w, color: color}
	return func(e event.Event) {
		mu.Lock()
		defer mu.Unlock()
		t.line("%s", eventLine(t, e))
	}
}

// EventLine is the plain line of one event, as EventLines prints it; the
// live view prints finished changes with it.
func EventLine(e event.Event, color bool) string {
	return eventLine(&textWriter{color: color}, e)
}

// Verb is how a change in flight is named ("creating").
func Verb(a plan.Action) string { return verb(a, false) }

func eventLine(t *textWriter, e event.Event) string {
	what := e.Address.String()
	if e.Address == (plan.Address{}) {
		what = "run"
	}
	elapsed := ""
	if e.Elapsed > 0 {
		elapsed = fmt.Sprintf(" [%s]", e.Elapsed.Round(100*time.Millisecond))
	}
	switch e.Type {
	case event.Started:
		return fmt.Sprintf("%s: %s...", what, verb(e.Action, false))
	case event.Progress:
		return fmt.Sprintf("%s: %s%s", what, e.Message, elapsed)
	case event.Succeeded:
		return fmt.Sprintf("%s: %s%s", what, t.paint(green, verb(e.Action, true)), elapsed)
	case event.Failed:
		return fmt.Sprintf("%s: %s%s: %s", what, t.paint(red, "failed"), elapsed, e.Err)
	case event.Skipped:
		return fmt.Sprintf("%s: %s: %s", what, t.paint(yellow, "skipped"), e.Message)
	}
	return fmt.Sprintf("%s: %s: %s", what, e.Type, e.Message)
}

func verb(a plan.Action, done bool) string {
	base := map[plan.Action][2]string{
		plan.Create:  {"creating", "created"},
		plan.Update:  {"updating", "updated"},
		plan.Replace: {"replacing", "replaced"},
		plan.Delete:  {"deleting", "deleted"},
		plan.Adopt:   {"adopting", "adopted"},
		plan.Keep:    {"releasing", "kept"},
	}[a]
	if base[0] == "" {
		base = [2]string{"working", "done"}
	}
	if done {
		return base[1]
	}
	return base[0]
}

// EventJSON writes one JSON object per line per event.
func EventJSON(w io.Writer) event.Sink {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return func(e event.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(struct {
			FormatVersion string `json:"format_version"`
			Addr          string `json:"resource,omitempty"`
			event.Event
		}{plan.FormatVersion, addrString(e.Address), e})
	}
}

func addrString(a plan.Address) string {
	if a == (plan.Address{}) {
		return ""
	}
	return a.String()
}

package apply

import (
	"context"
	"fmt"
	"io"

	"github.com/neko-defense/nekoctl/pkg/cmdutil"
	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/event"
)

// applyInterruptibly applies the plan so that the first interrupt starts
// no new change and lets those in flight finish (announced as a run event,
// so every rendering shows it), and a second one cuts them short.
func applyInterruptibly(ctx context.Context, eng *engine.Engine, planned *engine.Planned) (*engine.Result, error) {
	intr := cmdutil.InterruptsFrom(ctx)
	eng.Stop = intr.Drain()
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-intr.Stopped():
			eng.Emit(event.Event{Type: event.Interrupted,
				Message: "starting no more changes, letting those in flight finish (interrupt again to abort them)"})
		case <-finished:
		}
	}()
	return eng.Apply(ctx, planned)
}

// summarize says what the apply did. After an interruption it lists what was
// made and what was not, so that the next run holds no surprise; with JSON
// events, the event stream says it instead of the lists.
func summarize(w io.Writer, eng *engine.Engine, res *engine.Result, jsonEvents bool) {
	made := res.With(event.Succeeded)
	failed, skipped, interrupted := res.Failed(), res.Skipped(), res.Interrupted()
	if len(interrupted) == 0 {
		fmt.Fprintf(w, "\nApplied %d change(s), %d failed, %d skipped.\n", len(made), len(failed), len(skipped))
		return
	}
	counts := fmt.Sprintf("%d change(s) made, %d not made (interrupted), %d failed, %d skipped",
		len(made), len(interrupted), len(failed), len(skipped))
	if jsonEvents {
		eng.Emit(event.Event{Type: event.Interrupted, Message: counts + "; the next run makes what was not made"})
		return
	}
	fmt.Fprintf(w, "\nInterrupted: %s.\n", counts)
	list := func(title string, os []engine.Outcome) {
		if len(os) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		for _, o := range os {
			fmt.Fprintf(w, "  * %s %s\n", o.Change.Action, o.Change.Address)
		}
	}
	list("Made:", made)
	list("Not made (the next run makes them):", interrupted)
}

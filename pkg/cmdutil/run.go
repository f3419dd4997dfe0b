package cmdutil

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/neko-defense/nekoctl/pkg/engine"
	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/printer"
	"github.com/neko-defense/nekoctl/pkg/progress"
	"github.com/neko-defense/nekoctl/pkg/provider"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// RunOptions are the flags shared by plan, up and down.
type RunOptions struct {
	File        string
	Output      string
	Parallelism int
	Provider    provider.Options
	// Select makes the run partial (--region, --target, --exclude).
	Select plan.Selection
}

// Engine builds the providers of a validated stack and the engine over them.
func (f *Factory) Engine(ctx context.Context, st *spec.Stack, o RunOptions, events event.Sink) (*engine.Engine, error) {
	if f.Providers == nil {
		return nil, fmt.Errorf("no providers are configured")
	}
	if events == nil {
		events = event.Discard
	}
	providers, err := f.Providers(ctx, st, o.Provider, events)
	if err != nil {
		return nil, err
	}
	return &engine.Engine{Providers: providers, Events: events, Now: f.Now, Parallelism: o.Parallelism,
		Rollout: Rollout(st)}, nil
}

// Rollout is the spec's staged rollout as the engine runs it.
func Rollout(st *spec.Stack) *engine.Rollout {
	r := st.Spec.Rollout
	out := &engine.Rollout{RollBack: r.OnFailure != spec.OnFailureStop}
	for _, w := range r.Waves {
		ew := engine.Wave{Regions: w.Regions}
		if w.Bake != nil {
			ew.Bake = w.Bake.Duration
		}
		out.Waves = append(out.Waves, ew)
	}
	return out
}

// EventSink picks the event printer of the commands without a live view
// (plan, rollback, failover, drill, restore): JSON lines with -o json, else
// plain lines each prefixed with the time of its event, as `up` prints them
// without a terminal.
func (f *Factory) EventSink(output string) event.Sink {
	if output == "json" {
		return printer.EventJSON(f.IOStreams.ErrOut)
	}
	return progress.Lines(f.IOStreams.ErrOut, progress.Options{Now: f.Now, Color: f.IOStreams.ErrColorEnabled()}).Event
}

// Reporter picks how an apply's progress is printed: JSON lines with -o
// json, the live view on a terminal (unless noProgress), else plain lines
// each prefixed with the time of its event.
func (f *Factory) Reporter(output string, noProgress bool) progress.Reporter {
	if output == "json" {
		return progress.Plain(f.EventSink(output))
	}
	o := progress.Options{Now: f.Now, Color: f.IOStreams.ErrColorEnabled()}
	if noProgress || !f.IOStreams.LiveProgressEnabled() {
		return progress.Lines(f.IOStreams.ErrOut, o)
	}
	return progress.NewView(f.IOStreams.ErrOut, o)
}

// CheckOutput validates an -o value.
func CheckOutput(o string) error {
	if o != "text" && o != "json" {
		return FlagErrorf("--output must be text or json, not %q", o)
	}
	return nil
}

// Confirm asks before changing anything. Without a terminal, --yes is required.
func (f *Factory) Confirm(yes bool, question string) error {
	return f.ConfirmContext(context.Background(), yes, question)
}

// ConfirmContext is Confirm that gives up when ctx ends (Ctrl-C at the
// question): nothing was changed.
func (f *Factory) ConfirmContext(ctx context.Context, yes bool, question string) error {
	if yes {
		return nil
	}
	if !f.IOStreams.CanPrompt() {
		return FlagErrorf("refusing to change remote state without confirmation: run with --yes when not on a terminal")
	}
	fmt.Fprintf(f.IOStreams.Out, "\n%s Only 'yes' is accepted: ", question)
	type line struct {
		s   string
		err error
	}
	read := make(chan line, 1)
	go func() {
		s, err := readLine(f.IOStreams.In)
		read <- line{s, err}
	}()
	var answer string
	select {
	case l := <-read:
		if l.err != nil {
			return l.err
		}
		answer = l.s
	case <-ctx.Done():
		fmt.Fprintln(f.IOStreams.ErrOut, "\nCancelled: nothing was changed.")
		return fmt.Errorf("%w at the question", context.Cause(ctx))
	}
	if strings.TrimSpace(answer) != "yes" {
		fmt.Fprintln(f.IOStreams.ErrOut, "Cancelled: nothing was changed.")
		return ErrSilent
	}
	return nil
}

func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

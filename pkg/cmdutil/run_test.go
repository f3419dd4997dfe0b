package cmdutil

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/event"
	"github.com/neko-defense/nekoctl/pkg/iostreams"
	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/progress"
)

func TestConfirm(t *testing.T) {
	tests := []struct {
		name    string
		yes     bool
		tty     bool
		answer  string
		wantErr func(error) bool
	}{
		{name: "--yes skips the question", yes: true, wantErr: func(err error) bool { return err == nil }},
		{name: "no terminal needs --yes", wantErr: func(err error) bool {
			var fe *FlagError
			return errors.As(err, &fe) && strings.Contains(err.Error(), "--yes")
		}},
		{name: "yes on a terminal", tty: true, answer: "yes\n", wantErr: func(err error) bool { return err == nil }},
		{name: "anything else cancels", tty: true, answer: "y\n", wantErr: func(err error) bool { return errors.Is(err, ErrSilent) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, in, _, errOut := iostreams.Test()
			ios.SetTTY(tt.tty, tt.tty)
			in.WriteString(tt.answer)
			f := &Factory{IOStreams: ios}
			err := f.Confirm(tt.yes, "Apply?")
			if !tt.wantErr(err) {
				t.Fatalf("Confirm() = %v", err)
			}
			if errors.Is(err, ErrSilent) && !strings.Contains(errOut.String(), "nothing was changed") {
				t.Errorf("cancel not reported: %q", errOut.String())
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{{nil, 0}, {errors.New("x"), 1}, {&ExitCodeError{Code: ExitChanges}, 2}, {ErrSilent, 1}, {FlagErrorf("bad"), 1}} {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

// TestEventSinkLinesCarryTheTime: the commands without a live view print
// an event as `up` does without a terminal, after the time of day it
// happened (the clock's when the event has none), and JSON unchanged.
func TestEventSinkLinesCarryTheTime(t *testing.T) {
	at := time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC)
	addr := plan.Address{Provider: "kubernetes", Scope: "region/eu-west", Region: "eu-west", Kind: "Deployment", Name: "neko-defense/neko-api"}
	ios, _, _, errOut := iostreams.Test()
	f := &Factory{IOStreams: ios, Now: func() time.Time { return at.Add(time.Hour) }}
	sink := f.EventSink("text")
	sink(event.Event{Time: at, Type: event.Warning, Address: addr, Message: "rolling back"})
	sink(event.Event{Type: event.Succeeded, Address: addr, Action: plan.Update})
	var upLines bytes.Buffer
	up := progress.Lines(&upLines, progress.Options{Now: f.Now})
	up.Event(event.Event{Time: at, Type: event.Warning, Address: addr, Message: "rolling back"})
	up.Event(event.Event{Type: event.Succeeded, Address: addr, Action: plan.Update})
	want := "03:04:05 " + addr.String() + ": warning: rolling back\n04:04:05 " + addr.String() + ": updated\n"
	if got := errOut.String(); got != want || upLines.String() != want {
		t.Errorf("event lines:\n%s\nup's plain lines:\n%s\nwant:\n%s", got, upLines.String(), want)
	}

	ios, _, _, errOut = iostreams.Test()
	f.IOStreams = ios
	f.EventSink("json")(event.Event{Time: at, Type: event.Warning, Address: addr, Message: "rolling back"})
	if got := errOut.String(); !strings.HasPrefix(got, `{"format_version":`) || !strings.Contains(got, `"time":"2026-11-30T03:04:05Z"`) {
		t.Errorf("JSON event line: %s", got)
	}
}

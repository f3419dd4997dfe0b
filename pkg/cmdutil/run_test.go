package cmdutil

import (
	"errors"
	"strings"
	"testing"

	"github.com/neko-defense/nekoctl/pkg/iostreams"
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

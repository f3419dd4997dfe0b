package cmdutil

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/neko-defense/nekoctl/pkg/iostreams"
)

func TestInterrupts(t *testing.T) {
	wait := func(t *testing.T, c <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s never happened", what)
		}
	}
	t.Run("before draining the first signal cancels", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		ctx, intr := WatchInterrupts(context.Background(), sigs)
		sigs <- syscall.SIGTERM
		wait(t, ctx.Done(), "the cancel")
		if !errors.Is(context.Cause(ctx), ErrInterrupted) || !intr.Interrupted() {
			t.Errorf("cause = %v", context.Cause(ctx))
		}
		if err := CheckInterrupted(ctx); ExitCode(err) != ExitInterrupted {
			t.Errorf("CheckInterrupted = %v, exit %d", err, ExitCode(err))
		}
	})
	t.Run("while draining the first signal only stops, the second aborts", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		ctx, intr := WatchInterrupts(context.Background(), sigs)
		if InterruptsFrom(ctx) != intr {
			t.Fatal("the context does not carry the Interrupts")
		}
		stop := intr.Drain()
		sigs <- os.Interrupt
		wait(t, stop, "the stop")
		time.Sleep(20 * time.Millisecond)
		if ctx.Err() != nil {
			t.Fatal("the first signal cancelled a draining run")
		}
		sigs <- os.Interrupt
		wait(t, intr.Aborted(), "the abort")
		wait(t, ctx.Done(), "the cancel")
		if !errors.Is(context.Cause(ctx), ErrAborted) || ExitCode(context.Cause(ctx)) != ExitInterrupted {
			t.Errorf("cause = %v", context.Cause(ctx))
		}
	})
	t.Run("no signals watched", func(t *testing.T) {
		intr := InterruptsFrom(context.Background())
		if intr.Drain() != nil || intr.Interrupted() || CheckInterrupted(context.Background()) != nil {
			t.Error("a nil Interrupts fired")
		}
	})
}

func TestConfirmGivesUpWhenInterrupted(t *testing.T) {
	ios, _, _, errOut := iostreams.Test()
	ios.SetTTY(true, true)
	stdin, typing := io.Pipe() // nobody answers
	defer typing.Close()
	ios.In = stdin
	f := &Factory{IOStreams: ios}
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		time.Sleep(50 * time.Millisecond)
		cancel(ErrInterrupted)
	}()
	err := f.ConfirmContext(ctx, false, "Apply?")
	if ExitCode(err) != ExitInterrupted {
		t.Errorf("ConfirmContext = %v", err)
	}
	if !strings.Contains(errOut.String(), "nothing was changed") {
		t.Errorf("stderr = %q", errOut.String())
	}
}

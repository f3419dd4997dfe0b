package cmdutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/neko-defense/nekoctl/pkg/engine"
)

// ExitInterrupted is the exit code of a run stopped by SIGINT or SIGTERM
// (128 + SIGINT, as shells report it).
const ExitInterrupted = 130

var (
	// ErrInterrupted is the cause of a context cancelled by the first
	// interrupt of a command that has nothing in flight to let finish; the
	// engine wraps the same error when changes were not made.
	ErrInterrupted = engine.ErrInterrupted
	// ErrAborted is the cause of a context cancelled by a second interrupt:
	// calls in flight are cut short.
	ErrAborted = errors.New("aborted by a second interrupt")
)

// Interrupts is a run's answer to SIGINT and SIGTERM. Until a command asks
// to drain, the first signal cancels the run's context: planning and
// waiting have nothing worth finishing. Once it drains (it is applying
// changes), the first signal only closes the channel Drain returned: no new
// change starts, those in flight finish, the lock is released. A second
// signal always cancels the context with ErrAborted. It does not depend on
// how output is rendered.
type Interrupts struct {
	cancel  context.CancelCauseFunc
	stop    chan struct{}
	aborted chan struct{}

	mu       sync.Mutex
	draining bool
	count    int
}

type interruptsKey struct{}

// WatchInterrupts answers the signals arriving on signals for the rest of
// ctx's life and returns the run's context, which carries the Interrupts
// (InterruptsFrom).
func WatchInterrupts(ctx context.Context, signals <-chan os.Signal) (context.Context, *Interrupts) {
	ctx, cancel := context.WithCancelCause(ctx)
	i := &Interrupts{cancel: cancel, stop: make(chan struct{}), aborted: make(chan struct{})}
	go func() {
		for {
			select {
			case <-signals:
				i.receive()
			case <-ctx.Done():
				return
			}
		}
	}()
	return context.WithValue(ctx, interruptsKey{}, i), i
}

// InterruptsFrom returns the run's Interrupts, or nil when no signal is
// watched (a command run by a test): a nil Interrupts never fires.
func InterruptsFrom(ctx context.Context) *Interrupts {
	i, _ := ctx.Value(interruptsKey{}).(*Interrupts)
	return i
}

func (i *Interrupts) receive() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.count++
	switch {
	case i.count == 1:
		close(i.stop)
		if !i.draining {
			i.cancel(ErrInterrupted)
		}
	case i.count == 2:
		close(i.aborted)
		i.cancel(ErrAborted)
	}
}

// Drain switches to letting the work in flight finish on the first signal,
// and returns the channel that signal closes. If a signal came already, the
// channel is closed (and the context cancelled).
func (i *Interrupts) Drain() <-chan struct{} {
	if i == nil {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.draining = true
	return i.stop
}

// Stopped is closed by the first signal; nil (never closed) on a nil Interrupts.
func (i *Interrupts) Stopped() <-chan struct{} {
	if i == nil {
		return nil
	}
	return i.stop
}

// Aborted is closed by the second signal; nil (never closed) on a nil Interrupts.
func (i *Interrupts) Aborted() <-chan struct{} {
	if i == nil {
		return nil
	}
	return i.aborted
}

// Interrupted reports whether a signal came.
func (i *Interrupts) Interrupted() bool {
	if i == nil {
		return false
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.count > 0
}

// CheckInterrupted returns, once a signal came, the error that ends a
// command before it changed anything.
func CheckInterrupted(ctx context.Context) error {
	if InterruptsFrom(ctx).Interrupted() {
		return fmt.Errorf("%w before anything was changed", ErrInterrupted)
	}
	return nil
}

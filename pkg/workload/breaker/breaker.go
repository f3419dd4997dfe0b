// Package breaker wraps calls to MongoDB and Redis in circuit breakers so
// that an unreachable dependency costs microseconds, not timeouts, and is
// probed again on its own after a pause.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
)

// State values as exported in the circuit_breaker_state metric.
const (
	Closed   = 0
	HalfOpen = 1
	Open     = 2
)

// UnavailableError is returned, without calling the dependency, while its
// breaker is open.
type UnavailableError struct{ Name string }

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%s unavailable (circuit breaker open), try again later", e.Name)
}

// Settings tune a breaker.
type Settings struct {
	// Name of the dependency, e.g. mongodb.
	Name string
	// Failures is how many consecutive failures open the breaker.
	Failures uint32
	// OpenTimeout is how long the breaker stays open before letting one
	// probe through.
	OpenTimeout time.Duration
	// IsFailure tells dependency failures (network, timeouts) from errors
	// that are the caller's (not found, duplicate key), which must not trip it.
	IsFailure func(error) bool
	// OnStateChange is told every transition, with Closed, HalfOpen or Open.
	OnStateChange func(name string, state int)
}

// Breaker guards one dependency.
type Breaker struct {
	name string
	cb   *gobreaker.CircuitBreaker[any]
}

// New returns a closed breaker.
func New(s Settings) *Breaker {
	if s.Failures == 0 {
		s.Failures = 3
	}
	isFailure := s.IsFailure
	if isFailure == nil {
		isFailure = func(err error) bool { return err != nil }
	}
	b := &Breaker{name: s.Name}
	b.cb = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:         s.Name,
		MaxRequests:  1,
		Timeout:      s.OpenTimeout,
		ReadyToTrip:  func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.Failures },
		IsSuccessful: func(err error) bool { return err == nil || !isFailure(err) },
		// A caller that went away says nothing about the dependency.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
		OnStateChange: func(name string, _, to gobreaker.State) {
			if s.OnStateChange != nil {
				s.OnStateChange(name, stateValue(to))
			}
		},
	})
	if s.OnStateChange != nil {
		s.OnStateChange(s.Name, Closed)
	}
	return b
}

// Do runs fn through the breaker b.
func Do[T any](b *Breaker, fn func() (T, error)) (T, error) {
	v, err := b.cb.Execute(func() (any, error) { return fn() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		var zero T
		return zero, &UnavailableError{Name: b.name}
	}
	t, _ := v.(T)
	return t, err
}

// State is Closed, HalfOpen or Open.
func (b *Breaker) State() int { return stateValue(b.cb.State()) }

// Name is the dependency's name.
func (b *Breaker) Name() string { return b.name }

func stateValue(s gobreaker.State) int {
	switch s {
	case gobreaker.StateOpen:
		return Open
	case gobreaker.StateHalfOpen:
		return HalfOpen
	default:
		return Closed
	}
}

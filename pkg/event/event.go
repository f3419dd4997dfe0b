// Package event carries what the engine and providers report while they
// work. They never print; printers (terminal, plain lines, JSON stream)
// consume these events.
package event

import (
	"time"

	"github.com/neko-defense/nekoctl/pkg/plan"
)

// Type is the closed set of event kinds.
type Type string

const (
	Started   Type = "started"
	Progress  Type = "progress"
	Succeeded Type = "succeeded"
	Failed    Type = "failed"
	Skipped   Type = "skipped"
	// Interrupted changes were not made, or were cut short, because the
	// user interrupted the run.
	Interrupted Type = "interrupted"
	Warning     Type = "warning"
)

// Event is one report about one resource (or, with an empty address, the run).
type Event struct {
	Time    time.Time    `json:"time"`
	Type    Type         `json:"type"`
	Address plan.Address `json:"address"`
	Action  plan.Action  `json:"action,omitempty"`
	Message string       `json:"message,omitempty"`
	// Elapsed is the time spent so far on this resource (long waits).
	Elapsed time.Duration `json:"elapsed,omitempty"`
	Err     string        `json:"error,omitempty"`
}

// Sink receives events; it must be safe for concurrent use.
type Sink func(Event)

// Discard drops every event.
func Discard(Event) {}

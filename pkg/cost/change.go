package cost

import (
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/spec"
)

// Change is the monthly cost a plan adds (positive) or removes.
type Change struct {
	Monthly float64 `json:"monthly"`
	// Priced counts the planned creates and deletes that carry a cost.
	Priced int `json:"priced"`
}

// PlanChange prices a plan against the stack's estimate: every created
// resource that brings a cost line of the estimate adds it, every deleted
// one removes it. Updates and replacements are priced as no change, and
// resources of regions no longer in the spec are not priced: it is the
// simplest honest figure, not a diff of two bills.
func (e *Estimate) PlanChange(p *plan.Plan) Change {
	var ch Change
	counted := map[int]plan.Action{}
	for _, c := range p.Changes {
		if c.Action != plan.Create && c.Action != plan.Delete {
			continue
		}
		key := c.Address.Provider + "/" + c.Address.Kind
		priced := false
		for i, l := range e.Lines {
			if l.createdBy != key || (c.Address.Region != "" && c.Address.Region != l.Region) {
				continue
			}
			if _, done := counted[i]; done {
				continue
			}
			counted[i] = c.Action
			priced = true
			if c.Action == plan.Create {
				ch.Monthly += l.Monthly
			} else {
				ch.Monthly -= l.Monthly
			}
		}
		if priced {
			ch.Priced++
		}
	}
	ch.Monthly = cents(ch.Monthly)
	return ch
}

// PlanLine is the line `plan` prints after its summary.
func (e *Estimate) PlanLine(ch Change) string {
	sign := "+"
	if ch.Monthly < 0 {
		sign = ""
	}
	return fmt.Sprintf("Cost: %s%s per month (resources created minus deleted; prices of %s; 'nekoctl cost' for the whole stack).",
		sign, Money(ch.Monthly), e.Prices.Date)
}

// PlanSummary prices a plan of st with the built-in table and returns the
// line `plan` prints after its summary, or why it could not.
func PlanSummary(st *spec.Stack, p *plan.Plan) string {
	prices, err := Builtin()
	if err == nil {
		var e *Estimate
		if e, err = prices.Estimate(st, Options{RequestsPerDay: DefaultRequestsPerDay}); err == nil {
			return e.PlanLine(e.PlanChange(p))
		}
	}
	return "Cost: not estimated: " + err.Error()
}

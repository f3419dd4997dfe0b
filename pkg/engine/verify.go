package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/neko-defense/nekoctl/pkg/plan"
	"github.com/neko-defense/nekoctl/pkg/provider"
)

// check asks every provider that read its live state and is a
// provider.Checker for its findings, added to the plan as diagnostics in
// provider order.
func (e *Engine) check(ctx context.Context, p *plan.Plan, failed []error) {
	found := make([][]plan.Diagnostic, len(e.Providers))
	e.each(func(i int, pr provider.Provider) {
		if c, ok := pr.(provider.Checker); ok && failed[i] == nil {
			found[i] = c.Check(ctx)
		}
	})
	for i, ds := range found {
		for _, d := range ds {
			d.Provider, d.Region = e.Providers[i].Name(), e.Providers[i].Region()
			p.Diagnostics = append(p.Diagnostics, d)
		}
	}
}

// Verify runs every provider.Verifier at once and
// returns their errors together, each naming its provider.
func (e *Engine) Verify(ctx context.Context) error {
	errs := make([]error, len(e.Providers))
	e.each(func(i int, pr provider.Provider) {
		if v, ok := pr.(provider.Verifier); ok {
			if err := v.Verify(ctx); err != nil {
				errs[i] = fmt.Errorf("%s: %w", describeProvider(pr), err)
			}
		}
	})
	return errors.Join(errs...)
}
